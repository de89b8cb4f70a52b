import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startGateway } from '../../src/gateway.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { cli } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { call, connect } from '../mcp/mcp-client.ts';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// The README's "Agents over MCP" and docs/mcp.md's host snippets, done by the SDK's client as a
// host would: the URL and header `claude mcp add` is given, against a gateway started as
// `npm start` starts it, and the virtual phone's answer through the CLI line the README shows.
const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Agents over MCP'), README.indexOf('## Documentation'));
const MCP_DOC = readFileSync(join(ROOT, 'docs', 'mcp.md'), 'utf8');
const CLAUDE_ADD = /claude mcp add --transport http agentphone (\S+) --header "([^"]+)"/;
const SIM_TEXT = /npx agentphone sim text --from (\S+) --to (\S+) --body "([^"]+)"/;

describe('README: Agents over MCP', () => {
  const tempDir = useTempDir();
  const stops: Array<() => unknown> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('every JSON snippet in docs/mcp.md is valid JSON naming /mcp with a bearer header or agentphone mcp', () => {
    const blocks = [...MCP_DOC.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks) {
      if (block.includes('"error"')) continue; // the tool error example
      const server = (JSON.parse(block) as { mcpServers: { agentphone: { url?: string; headers?: Record<string, string>; args?: string[] } } }).mcpServers.agentphone;
      if (server.url !== undefined) {
        expect(new URL(server.url).pathname).toBe('/mcp');
        expect(server.headers?.Authorization).toMatch(/^Bearer agp_/);
      } else {
        expect(server.args).toContain('mcp');
      }
    }
  });

  it('adds the server the way the README says and the agent texts, gets the phone’s answer from wait_for_reply', { timeout: 90_000 }, async () => {
    const [, url, header] = CLAUDE_ADD.exec(SECTION) ?? [];
    const [, from, to, body] = SIM_TEXT.exec(SECTION) ?? [];
    expect(url).toBe('http://127.0.0.1:3000/mcp');
    expect(SECTION).toContain("npx agentphone keys create --name claude --json | node -pe 'JSON.parse(require(\"fs\").readFileSync(0)).key'");
    const port = await freePort();
    const env = { AGENTPHONE_DATA_DIR: tempDir(), AGENTPHONE_PORT: String(port), AGENTPHONE_LOG_LEVEL: 'silent' };
    const gateway = await startGateway(loadConfig({ env, cwd: process.cwd() }), silentLogger());
    stops.push(() => gateway.stop());
    const created = await cli(['keys', 'create', '--name', 'claude', '--json'], env);
    const key = (JSON.parse(created.stdout) as { key: string }).key;

    const [name = '', value = ''] = (header as string).replace('$KEY', key).split(/:\s*/);
    const endpoint = new URL((url as string).replace(':3000', `:${port}`));
    const agent = await connect(new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { [name]: value } } }));
    stops.push(() => agent.close());
    await until(() => gateway.pool.lines().every((l) => l.state === 'ready'), 20_000, 'lines ready');

    const { json } = await call<{ numbers: Array<{ id: string; phoneNumber: string }> }>(agent, 'list_numbers');
    const first = json.numbers.find((n) => n.phoneNumber === to);
    expect(first).toBeDefined();
    const sent = await call<{ messageId: string }>(agent, 'send_sms', { number_id: first?.id, to: from, body: 'Does 3pm work?' });
    const waiting = call(agent, 'wait_for_reply', { number_id: first?.id, contact: from, after_message_id: sent.json.messageId, timeout_seconds: 60 });
    await until(() => gateway.network!.inbox(from as string).length > 0, 20_000, 'the text at the phone');
    expect((await cli(['sim', 'text', '--from', from as string, '--to', to as string, '--body', body as string], env)).code).toBe(0);
    expect((await waiting).json).toMatchObject({ timed_out: false, reply: { body, from } });
  });
});
