import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** A data dir for a gateway started in beforeAll (useTempDir removes its dirs after each test). */
export function suiteDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-mcp-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The SDK's own client, connected over `transport`. */
export async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'agentphone-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

export function httpTransport(gatewayUrl: string, key: string): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL('/mcp', gatewayUrl), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
}

/** A tool's answer: its JSON (from the text content) and whether it is an error. */
export async function call<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; json: T }> {
  const res = await client.callTool({ name, arguments: args });
  const content = res.content as Array<{ type: string; text?: string }>;
  const text = content[0]?.text ?? '';
  return { isError: res.isError === true, json: JSON.parse(text) as T };
}

/** A bare initialize over fetch (no SDK client: it opens no notification stream). */
export function initialize(gatewayUrl: string, key: string | undefined, body: unknown = initializeBody()): Promise<Response> {
  return fetch(new URL('/mcp', gatewayUrl), {
    method: 'POST',
    headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...(key !== undefined && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
}

export function initializeBody(): Record<string, unknown> {
  return { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
}
