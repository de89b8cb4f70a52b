import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { cli } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';

// The README's "Your first message", step by step, through the same CLI commands and HTTP calls,
// against a gateway started as `npm start` starts it (config from the environment, virtual lines),
// with examples/webhook-agent.mjs as the agent (on a free port instead of 8080).
const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PHONE = '+15557654321';

describe('README quick start', () => {
  const tempDir = useTempDir();
  const stops: Array<() => unknown> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('uses the commands this test runs', () => {
    const quickStart = README.slice(README.indexOf('## Your first message'), README.indexOf('## Documentation'));
    for (const line of [
      "npx agentphone keys create --name my-agent --json | node -pe 'JSON.parse(require(\"fs\").readFileSync(0)).key'",
      'numbers.find(n => n.line === "virtual-1").id',
      "npx agentphone webhook set --number $NUM --url http://127.0.0.1:8080/webhook --json | node -pe 'JSON.parse(require(\"fs\").readFileSync(0)).secret'",
      'WEBHOOK_SECRET=$SECRET node examples/webhook-agent.mjs &',
      'npx agentphone sim text --from +15557654321 --to +15550000001 --body "Hi agent"',
      '"You said: Hi agent"',
    ]) {
      expect(quickStart).toContain(line);
    }
  });

  it('sends, receives through the example agent and gets its inline reply', { timeout: 60_000 }, async () => {
    const env = { AGENTPHONE_DATA_DIR: tempDir(), AGENTPHONE_PORT: String(await freePort()), AGENTPHONE_LOG_LEVEL: 'silent' };
    const gateway: Gateway = await startGateway(loadConfig({ env, cwd: process.cwd() }), silentLogger());
    stops.push(() => gateway.stop());
    const json = async (args: string[]) => {
      const res = await cli([...args, '--json'], env);
      expect(res.code, res.stderr).toBe(0);
      return JSON.parse(res.stdout) as Record<string, unknown>;
    };
    // 1-2. A key, the numbers and the first line's id.
    const key = (await json(['keys', 'create', '--name', 'my-agent'])).key as string;
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${gateway.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    expect((await api('/api/numbers')).status).toBe(200);
    const numbers = (await json(['numbers', 'list'])).numbers as Array<{ id: string; line: string }>;
    const num = numbers.find((n) => n.line === 'virtual-1')!.id;
    await until(() => gateway.pool.lines().every((l) => l.state === 'ready'), 20_000, 'lines ready');
    // 3. Send, and the phone has it.
    const sent = await api(`/api/numbers/${num}/send/sms`, { method: 'POST', body: JSON.stringify({ to: PHONE, body: 'Hello from my AI agent! 👋' }) });
    expect(await sent.json()).toMatchObject({ status: 'queued', to: PHONE });
    await until(() => gateway.network!.inbox(PHONE).some((m) => m.complete && m.body === 'Hello from my AI agent! 👋'), 20_000, 'the SMS');
    // 4. The webhook, the example agent with its secret, a text from the phone, the inline reply.
    const agentPort = await freePort();
    const secret = (await json(['webhook', 'set', '--number', num, '--url', `http://127.0.0.1:${agentPort}/webhook`])).secret as string;
    const agent: ChildProcessWithoutNullStreams = spawn(process.execPath, [join(ROOT, 'examples', 'webhook-agent.mjs')], {
      env: { PATH: process.env.PATH, WEBHOOK_SECRET: secret, PORT: String(agentPort) },
    });
    stops.push(() => agent.kill());
    await new Promise<void>((resolve) => agent.stdout.once('data', () => resolve()));
    expect((await cli(['sim', 'text', '--from', PHONE, '--to', '+15550000001', '--body', 'Hi agent'], env)).code).toBe(0);
    await until(() => gateway.network!.inbox(PHONE).some((m) => m.complete && m.body === 'You said: Hi agent'), 20_000, 'the inline reply');
    const deliveries = (await json(['webhook', 'deliveries', '--number', num])).deliveries as Array<{ event: string; status: string; lastStatus: number | null }>;
    expect(deliveries.filter((d) => d.event === 'message.inbound')).toEqual([expect.objectContaining({ status: 'delivered', lastStatus: 200 })]);
    // 5. The conversation and the usage.
    const messages = (await (await api(`/api/numbers/${num}/messages`)).json()) as { messages: Array<{ body: string }> };
    expect(messages.messages.map((m) => m.body).sort()).toEqual(['Hello from my AI agent! 👋', 'Hi agent', 'You said: Hi agent']);
    expect((await api(`/api/numbers/${num}/usage`)).status).toBe(200);
  });
});
