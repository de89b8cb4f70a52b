import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ApiPrincipal } from '../auth/index.ts';
import { agentphoneVersion } from '../lifecycle/version.ts';
import { registerCallTools } from './call-tools.ts';
import type { McpDeps } from './deps.ts';
import { registerMessageTools } from './message-tools.ts';
import { registerResources } from './resources.ts';

export interface McpSession {
  server: McpServer;
  /** Closes the server (and its transport) and drops its subscriptions. */
  close(): Promise<void>;
}

const INSTRUCTIONS =
  'AgentPhone: real phone numbers for this agent. list_numbers gives the number ids; send_sms texts, wait_for_reply blocks until the contact answers, read_conversation shows the thread; place_call, get_call and hang_up handle voice calls. Errors come back as {error, message, code}.';

/** One MCP server for one client, acting with one API key's rights (its number scope applies to every tool). */
export function createMcpSession(deps: McpDeps, principal: ApiPrincipal): McpSession {
  const server = new McpServer({ name: 'agentphone', version: agentphoneVersion() }, { instructions: INSTRUCTIONS, capabilities: { resources: { subscribe: true } } });
  registerMessageTools(server, deps, principal);
  registerCallTools(server, deps, principal);
  const dropSubscriptions = registerResources(server, deps, principal);
  let closing: Promise<void> | undefined;
  return {
    server,
    // Once: closing the server closes its transport, whose onclose closes the session again.
    close: () =>
      (closing ??= (async () => {
        dropSubscriptions();
        await server.close();
      })()),
  };
}
