import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

describe('webhook and usage CLI commands', () => {
  const tempDir = useTempDir();
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  it('tests a webhook, lists dead letters, redelivers one, and reports usage', async () => {
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    const gw = await startTestGateway(tempDir());
    stop = async () => {
      await gw.stop();
      await receiver.stop();
    };
    const env = { AGENTPHONE_ADMIN_TOKEN: 'test-admin-token-0123456789', AGENTPHONE_DATA_DIR: tempDir() };
    const g = ['--gateway-url', gw.url];
    expect((await cli(['webhook', 'set', '--number', gw.numberA, '--url', hookUrl, ...g, '--json'], env)).code).toBe(0);

    receiver.answer = () => ({ status: 200, body: { ok: true } });
    const test = await cli(['webhook', 'test', '--number', gw.numberA, ...g, '--json'], env);
    expect(test.code).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ url: hookUrl, status: 200, body: '{"ok":true}', error: null });
    expect(receiver.events('webhook.test')).toHaveLength(1);
    expect(receiver.events('webhook.test')[0]!.headers['x-agentphone-signature']).toMatch(/^[0-9a-f]{64}$/);

    receiver.answer = () => ({ status: 410, body: { error: 'number gone' } });
    gw.network!.text('+15557654321', '+15550000001', 'lost?');
    await receiver.waitFor(() => receiver.events('message.inbound').length === 3);
    const listDead = async () => {
      const res = await cli(['webhook', 'deliveries', '--number', gw.numberA, '--status', 'dead', ...g, '--json'], env);
      return JSON.parse(res.stdout).deliveries as Array<{ id: string; status: string }>;
    };
    let dead = await listDead();
    while (dead.length === 0) dead = await listDead();
    expect(dead[0]).toMatchObject({ status: 'dead' });
    // Human output: a header row, aligned columns, and what the endpoint answered (status and body excerpt).
    const human = await cli(['webhook', 'deliveries', '--number', gw.numberA, '--status', 'dead', ...g], env);
    expect(human.code).toBe(0);
    const [header, ...rows] = human.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID +EVENT +STATUS +ATTEMPTS +CREATED +LAST ANSWER$/);
    const answerAt = header!.indexOf('LAST ANSWER');
    expect(rows[0]!.slice(answerAt)).toBe('HTTP 410: {"error":"number gone"}');
    expect(rows[0]!.indexOf('dead')).toBe(header!.indexOf('STATUS'));

    receiver.answer = () => ({ status: 200, body: { action: 'ignore' } });
    const redo = await cli(['webhook', 'redeliver', dead[0]!.id, '--gateway-url', gw.url, '--json'], env);
    expect(redo.code).toBe(0);
    await receiver.waitFor(() => receiver.events('message.inbound').length === 4);
    // A delivery that succeeded shows its answer too (what the agent said back).
    const delivered = async () => (await cli(['webhook', 'deliveries', '--number', gw.numberA, '--status', 'delivered', ...g], env)).stdout;
    let out = await delivered();
    while (!out.includes(dead[0]!.id)) out = await delivered();
    const row = out.split('\n').find((l) => l.startsWith(dead[0]!.id)) as string;
    expect(row.slice(out.split('\n')[0]!.indexOf('LAST ANSWER'))).toBe('HTTP 200: {"action":"ignore"}');

    const usage = await cli(['usage', '--url', gw.url, '--json'], env);
    expect(usage.code).toBe(0);
    const body = JSON.parse(usage.stdout) as { numbers: Array<{ phoneNumber: string; sms: { inbound: number } }>; total: number };
    expect(body.numbers.find((n) => n.phoneNumber === '+15550000001')?.sms.inbound).toBe(1);
    expect(body.total).toBe(58);
    expect((await cli(['usage', '--month', 'May', '--url', gw.url, '--json'], env)).code).toBe(1);
    expect((await cli(['webhook', 'redeliver', '--json'], env)).code).toBe(2);
  });
});
