import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallsRepository } from '../../src/store/index.ts';
import { cli } from '../helpers/cli.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { noisePng } from '../mms/media-server.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const SUBSCRIBER = '+15557654321';
const LINE_A = '+15550000001';
const OLD = '2020-01-01T00:00:00.000Z';
const DAY_MS = 86_400_000;

/**
 * Real gateways (virtual modems on PTYs, virtual MMSC, SQLite in a temp dir) make the data;
 * rows are then dated back with SQL, since waiting days is not an option.
 */
describe('retention: purge removes old messages, media and call transcripts and keeps newer ones', () => {
  const tempDir = useTempDir();
  let gw: TestGateway | undefined;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = new WebhookReceiver();
  });
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await receiver.stop();
  });

  async function start(dataDir: string, overrides: Record<string, unknown> = {}): Promise<TestGateway> {
    gw = await startTestGateway(dataDir, overrides);
    await gw.core.numbers.setWebhook(gw.numberA, { url: await receiver.start() });
    return gw;
  }

  const inbound = () => receiver.events('message.inbound').map((h) => h.json as { body: string; message_id: string; channel: string });
  const count = (g: TestGateway, sql: string) => (g.core.db.prepare<[], { n: number }>(sql).get() as { n: number }).n;

  async function receiveText(g: TestGateway, body: string): Promise<string> {
    g.network!.text(SUBSCRIBER, LINE_A, body);
    await receiver.waitFor(() => inbound().some((m) => m.body === body), 20_000);
    return inbound().find((m) => m.body === body)!.message_id;
  }

  async function receiveMms(g: TestGateway, body: string, seed: number): Promise<{ id: string; file: string }> {
    g.mms.mmsc!.subscriberSend(SUBSCRIBER, LINE_A, body, [{ contentType: 'image/png', name: `p${seed}.png`, data: await noisePng(24, 24, seed) }]);
    await receiver.waitFor(() => inbound().some((m) => m.body === body), 20_000);
    const id = inbound().find((m) => m.body === body)!.message_id;
    const { sha256 } = g.core.db.prepare<[string], { sha256: string }>(`SELECT sha256 FROM media WHERE message_id = ?`).get(id)!;
    return { id, file: g.mms.media.pathOf(sha256) };
  }

  async function addCall(g: TestGateway, id: string, createdAt: string, said: string): Promise<void> {
    const calls = new CallsRepository(g.core.store.db);
    await calls.insert({ id, numberId: g.numberA, direction: 'inbound', contact: SUBSCRIBER, status: 'in-progress', sipCallId: null, greeting: 'Hi there', instructions: 'be brief', apiKeyId: null, createdAt });
    await calls.addTurn(id, { callerText: said, dtmf: null, action: 'reply', agentReply: 'noted', createdAt });
    await calls.end({ id, status: 'completed', endReason: 'hangup', sipStatus: null, errorMessage: null, durationMs: 1000, billableMinutes: 1, endedAt: createdAt });
  }

  it('agentphone purge --before DATE deletes what is older (rows and media files) and keeps the rest', async () => {
    const dataDir = tempDir();
    const g = await start(dataDir);
    const oldText = await receiveText(g, 'old secret text');
    const oldMms = await receiveMms(g, 'old photo', 1);
    const newText = await receiveText(g, 'new text');
    const newMms = await receiveMms(g, 'new photo', 2);
    await addCall(g, 'call_old', OLD, 'my old account number');
    await addCall(g, 'call_new', new Date().toISOString(), 'my new question');
    // Date the first two messages, their media and webhook deliveries back to 2020.
    for (const id of [oldText, oldMms.id]) {
      g.core.db.prepare(`UPDATE messages SET created_at = ? WHERE id = ?`).run(OLD, id);
      g.core.db.prepare(`UPDATE media SET created_at = ? WHERE message_id = ?`).run(Date.parse(OLD), id);
      g.core.db.prepare(`UPDATE outbox SET created_at = ? WHERE message_id = ?`).run(OLD, id);
    }
    expect(existsSync(oldMms.file)).toBe(true);
    const config = join(dataDir, 'agentphone.yaml');
    writeFileSync(config, `dataDir: ${JSON.stringify(dataDir)}\n`);

    const res = await cli(['purge', '--before', '2021-01-01', '--config', config, '--json'], {});
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ before: '2021-01-01T00:00:00.000Z', messages: 2, media: 1, mediaFiles: 1, callTranscripts: 1 });

    const ids = g.core.db.prepare<[], { id: string }>(`SELECT id FROM messages`).all().map((r) => r.id);
    expect(ids).not.toContain(oldText);
    expect(ids).not.toContain(oldMms.id);
    expect(ids).toEqual(expect.arrayContaining([newText, newMms.id]));
    expect(count(g, `SELECT COUNT(*) AS n FROM outbox WHERE payload LIKE '%old secret text%'`)).toBe(0);
    expect(count(g, `SELECT COUNT(*) AS n FROM outbox WHERE payload LIKE '%new text%'`)).toBe(1);
    expect(existsSync(oldMms.file)).toBe(false);
    expect(existsSync(newMms.file)).toBe(true);
    const calls = new CallsRepository(g.core.store.db);
    expect(await calls.turns('call_old')).toEqual([]);
    expect(await calls.get('call_old')).toMatchObject({ status: 'completed', greeting: null, instructions: null, billableMinutes: 1 });
    expect((await calls.turns('call_new')).map((t) => t.callerText)).toEqual(['my new question']);

    const bad = await cli(['purge', '--before', 'last tuesday', '--config', config], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a date');
  });

  it('the gateway runs the purge job on its own with retention.messagesDays and callTranscriptsDays set', async () => {
    const dataDir = tempDir();
    let g = await start(dataDir);
    const old = await receiveText(g, 'ten days old');
    const oldMms = await receiveMms(g, 'ten days old photo', 3);
    const tenDaysAgo = new Date(Date.now() - 10 * DAY_MS).toISOString();
    for (const id of [old, oldMms.id]) {
      g.core.db.prepare(`UPDATE messages SET created_at = ? WHERE id = ?`).run(tenDaysAgo, id);
      g.core.db.prepare(`UPDATE media SET created_at = ? WHERE message_id = ?`).run(Date.parse(tenDaysAgo), id);
    }
    await addCall(g, 'call_old', tenDaysAgo, 'ten days ago I said');
    await g.stop();
    gw = undefined;
    await receiver.stop();
    receiver = new WebhookReceiver();

    g = await start(dataDir, { retention: { messagesDays: 7, callTranscriptsDays: 7 } });
    const fresh = await receiveText(g, 'today');
    await until(() => count(g, `SELECT COUNT(*) AS n FROM messages WHERE id = '${old}'`) === 0, 15_000, 'the job to purge the old message');
    await until(() => !existsSync(oldMms.file), 15_000, 'the job to delete the old media file');
    expect(await new CallsRepository(g.core.store.db).turns('call_old')).toEqual([]);
    expect(count(g, `SELECT COUNT(*) AS n FROM messages WHERE id = '${fresh}'`)).toBe(1);
  });
});
