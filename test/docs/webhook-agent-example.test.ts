import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/webhooks/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';

// The README's quick start runs examples/webhook-agent.mjs as the agent: here it runs as a real
// process against a real gateway (virtual modems on PTYs, SQLite in a temp dir).
const AGENT = join(import.meta.dirname, '..', '..', 'examples', 'webhook-agent.mjs');
const SUBSCRIBER = '+15557654321';

interface Agent {
  url: string;
  child: ChildProcessWithoutNullStreams;
  output: () => string;
}

function startAgent(secret: string): Promise<Agent> {
  const child = spawn(process.execPath, [AGENT], { env: { PATH: process.env.PATH, WEBHOOK_SECRET: secret, PORT: '0' } });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`agent exited ${code}: ${output}`)));
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve({ url, child, output: () => output });
    });
  });
}

describe('examples/webhook-agent.mjs', () => {
  const tempDir = useTempDir();
  const stops: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('answers an inbound SMS inline, and the sender gets the reply exactly once', async () => {
    const gw = await startTestGateway(tempDir());
    stops.push(() => gw.stop());
    const agent = await startAgent(gw.core.numbers.get(gw.numberA).webhookSecret);
    stops.push(() => void agent.child.kill());
    await gw.core.numbers.setWebhook(gw.numberA, { url: agent.url });

    gw.network!.text(SUBSCRIBER, '+15550000001', 'Hi agent');
    const inbox = await until(() => gw.network!.inbox(SUBSCRIBER).filter((m) => m.complete).length > 0 && gw.network!.inbox(SUBSCRIBER));
    expect(inbox.map((m) => m.body)).toEqual(['You said: Hi agent']);
    // The inbound event is settled (delivered, answer read) and the reply's status events too.
    const [inbound] = (await gw.core.outbox.listForNumber(gw.numberA, null, 10)).filter((e) => e.event === 'message.inbound');
    await until(async () => (await gw.core.outbox.get(inbound!.id))?.status === 'delivered', 15_000, 'inbound delivered');
    const outbound = await until(async () => {
      const list = await gw.core.messages.list(gw.numberA, { direction: 'outbound', limit: 10 });
      return list.every((m) => m.status === 'delivered') && list;
    });
    expect(outbound.map((m) => m.body)).toEqual(['You said: Hi agent']);
    expect(gw.network!.inbox(SUBSCRIBER).map((m) => m.body)).toEqual(['You said: Hi agent']);
    expect(await gw.core.outbox.get(inbound!.id)).toMatchObject({ attempts: 1, lastStatus: 200 });
    expect(agent.output()).toContain('message.inbound');
  });

  it('refuses an event whose header or body signature does not match the secret', async () => {
    const agent = await startAgent('right-secret');
    stops.push(() => void agent.child.kill());
    const payload = { event: 'message.inbound' as const, channel: 'sms' as const, from: SUBSCRIBER, to: '+15550000001', body: 'x', media: [], timestamp: new Date().toISOString(), message_id: 'msg_1' };
    const post = (body: Buffer | string, signature: string) =>
      fetch(agent.url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-agentphone-signature': signature } });

    const good = signWebhook(payload, 'right-secret');
    const ok = await post(good.body, good.headerSignature);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ action: 'respond', reply: 'You said: x' });

    const wrongKey = signWebhook(payload, 'wrong-secret');
    expect((await post(wrongKey.body, wrongKey.headerSignature)).status).toBe(401);
    // A body whose header HMAC is right but whose inner signature was made for other content.
    const tampered = Buffer.from(good.body.toString().replace('"body":"x"', '"body":"y"'));
    const headerOnly = await post(tampered, createHmac('sha256', 'right-secret').update(tampered).digest('hex'));
    expect(headerOnly.status).toBe(401);
    expect((await post(good.body, '')).status).toBe(401);
  });
});
