import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { GatewayUnreachableError } from './admin-client.ts';
import type { CliIo } from './command.ts';

/** JSON-RPC "server error" range: the gateway could not be reached or refused the request. */
const RELAY_ERROR = -32000;

/**
 * `agentphone mcp`: the agent host speaks MCP on this process's stdin/stdout, and every message
 * is passed on to the running gateway's /mcp (Streamable HTTP) with the API key, and every
 * answer and notification back. The tools then run inside the gateway, where the inbound path
 * that wait_for_reply and resource notifications listen on lives; a second process on the same
 * store would never hear of a reply. Resolves when the host closes stdin.
 */
export async function relayStdioToHttp(endpoint: URL, apiKey: string, io: Pick<CliIo, 'stderr'>): Promise<void> {
  const stdio = new StdioServerTransport();
  const http = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { authorization: `Bearer ${apiKey}` } } });
  // The host closing our stdin ends the session (StdioServerTransport itself never notices).
  const closed = new Promise<void>((resolve) => {
    stdio.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
  });
  const describe = (err: unknown) => {
    // fetch's own message for a refused or unresolvable address is only "fetch failed".
    const unreachable = err instanceof TypeError && err.message === 'fetch failed';
    return unreachable ? new GatewayUnreachableError(endpoint.origin).message : `AgentPhone gateway at ${endpoint.origin}: ${(err as Error).message}`;
  };

  stdio.onmessage = (message: JSONRPCMessage) => {
    http.send(message).catch((err: unknown) => {
      // A request must be answered, or the host waits for ever (onerror has told stderr).
      if (isJSONRPCRequest(message)) void stdio.send({ jsonrpc: '2.0', id: message.id, error: { code: RELAY_ERROR, message: describe(err) } });
    });
  };
  http.onmessage = (message: JSONRPCMessage) => {
    // The version agreed on at initialize goes on every later request (mcp-protocol-version).
    if (isJSONRPCResultResponse(message) && typeof message.result.protocolVersion === 'string') http.setProtocolVersion(message.result.protocolVersion);
    void stdio.send(message);
  };
  http.onerror = (err: Error) => io.stderr(`agentphone mcp: ${describe(err)}\n`);

  await http.start();
  await stdio.start();
  await closed;
  await http.terminateSession().catch(() => undefined);
  await http.close();
  await stdio.close();
}
