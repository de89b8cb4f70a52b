import { spawn } from 'node:child_process';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliProcess } from '../helpers/cli.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { call, connect, initializeBody, suiteDir } from './mcp-client.ts';

const PHONE = '+15557771001';

/** `agentphone mcp` as an agent host runs it: a child process speaking MCP on stdio, relaying to the gateway. */
function stdioTransport(gatewayUrl: string, env: Record<string, string>, args: string[] = []): StdioClientTransport {
  return new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--url', gatewayUrl, ...args], env: { PATH: process.env.PATH ?? '', ...env }, stderr: 'pipe' });
}

describe('agentphone mcp: stdio for agent hosts, relayed to the gateway (SDK client spawning the real command)', () => {
  const data = suiteDir();
  let gw: Awaited<ReturnType<typeof startTestGateway>>;

  beforeAll(async () => {
    gw = await startTestGateway(data.dir);
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    data.remove();
  });

  it('runs the agent script over stdio with the key from AGENTPHONE_API_KEY: send, wait for the reply, read the thread', async () => {
    const agent = await connect(stdioTransport(gw.url, { AGENTPHONE_API_KEY: gw.key }));
    try {
      const { tools } = await agent.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['send_sms', 'wait_for_reply', 'read_conversation', 'place_call']));
      const sent = await call<{ messageId: string }>(agent, 'send_sms', { number_id: gw.numberA, to: PHONE, body: 'Over stdio' });
      expect(sent.isError).toBe(false);
      const waiting = call(agent, 'wait_for_reply', { number_id: gw.numberA, contact: PHONE, after_message_id: sent.json.messageId, timeout_seconds: 60 });
      await until(() => gw.network!.inbox(PHONE).length > 0, 15_000, 'the text at the phone');
      gw.network!.text(PHONE, gw.core.numbers.get(gw.numberA).phoneNumber, 'Got it');
      expect((await waiting).json).toMatchObject({ timed_out: false, reply: { body: 'Got it', from: PHONE } });
      const thread = await call(agent, 'read_conversation', { number_id: gw.numberA, contact: PHONE });
      expect(JSON.stringify(thread.json)).toContain('Got it');
    } finally {
      await agent.close();
    }
  });

  it('takes the key from --key, and a key scoped to A cannot send from B', async () => {
    const scoped = (await gw.core.apiKeys.create({ name: 'stdio-scoped', numberIds: [gw.numberA] })).key;
    const agent = await connect(stdioTransport(gw.url, {}, ['--key', scoped]));
    try {
      const res = await call(agent, 'send_sms', { number_id: gw.numberB, to: PHONE, body: 'not mine' });
      expect(res).toMatchObject({ isError: true, json: { error: 'Not Found' } });
    } finally {
      await agent.close();
    }
  });

  it('without --url finds the gateway from the configuration, as every other command does', async () => {
    const port = new URL(gw.url).port;
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env: { PATH: process.env.PATH ?? '', AGENTPHONE_PORT: port, AGENTPHONE_API_KEY: gw.key }, stderr: 'pipe' });
    const agent = await connect(transport);
    try {
      const res = await call<{ numbers: Array<{ id: string }> }>(agent, 'list_numbers');
      expect(res.json.numbers.map((n) => n.id)).toContain(gw.numberA);
    } finally {
      await agent.close();
    }
  });

  it('answers initialize with the gateway’s 401 when the key is wrong', async () => {
    await expect(connect(stdioTransport(gw.url, { AGENTPHONE_API_KEY: 'agp_wrong' }))).rejects.toThrow(/401|Invalid or missing API key/);
  });

  it('answers a request with a JSON-RPC error naming the URL when no gateway answers there, and exits 0 when the host closes stdin', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp', '--url', 'http://127.0.0.1:1'], { env: { PATH: process.env.PATH, AGENTPHONE_API_KEY: gw.key } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdin.write(`${JSON.stringify(initializeBody())}\n`);
    await until(() => stdout.includes('\n'), 30_000, 'the answer on stdout');
    expect(JSON.parse(stdout)).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'No AgentPhone gateway answers at http://127.0.0.1:1. Is it running (agentphone start)?' } });
    child.stdin.end();
    expect(await exited).toBe(0);
  });

  it('exits 2 with the usage when no key is given', async () => {
    const res = await cliProcess(['mcp', '--url', gw.url], {});
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/API key is required/);
  });
});
