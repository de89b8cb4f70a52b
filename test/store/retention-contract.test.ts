import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mediaFilePath, purgeStored } from '../../src/store/index.ts';
import { PURGE_BATCH_ROWS } from '../../src/store/retention.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-30T12:00:00Z');
const OLD = NOW - 40 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();

describeOnEachDialect('purgeStored', (open) => {
  let t: TestStore;
  let mediaDir = '';

  beforeEach(async () => {
    t = await open();
    mediaDir = mkdtempSync(join(tmpdir(), 'agentphone-media-'));
    await t.store.db
      .insertInto('numbers')
      .values({ id: 'num_1', phone_number: '+15550000001', line_id: 'l1', label: null, webhook_url: null, webhook_secret: 'whsec_x', created_at: iso(OLD), updated_at: iso(OLD) })
      .execute();
  });
  afterEach(async () => {
    await t.close();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  async function message(id: string, at: number, status: string): Promise<void> {
    await t.store.db
      .insertInto('messages')
      .values({ id, number_id: 'num_1', direction: 'inbound', channel: 'sms', contact: '+1555', body: 'secret', status, segments: 1, created_at: iso(at), updated_at: iso(at) })
      .execute();
  }

  async function mediaFile(id: string, sha: string, at: number): Promise<void> {
    await t.store.db.insertInto('media').values({ id, sha256: sha, content_type: 'image/png', size: 1, created_at: at }).execute();
    const path = mediaFilePath(mediaDir, sha);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'x');
  }

  it('deletes what is older than the cutoff in batches, keeps what is newer or still on its way, and the unused media files', async () => {
    const many = PURGE_BATCH_ROWS * 2 + 7;
    for (let i = 0; i < many; i += 200) {
      const rows = Array.from({ length: Math.min(200, many - i) }, (_, j) => ({
        id: `old_${i + j}`,
        number_id: 'num_1',
        direction: 'inbound',
        channel: 'sms',
        contact: '+1555',
        body: 'secret',
        status: 'received',
        segments: 1,
        created_at: iso(OLD + i + j),
        updated_at: iso(OLD),
      }));
      await t.store.db.insertInto('messages').values(rows).execute();
    }
    await message('queued_old', OLD, 'queued');
    await message('new', NOW, 'received');
    await t.store.db
      .insertInto('outbox')
      .values([
        { id: 'evt_old', number_id: 'num_1', event: 'message.inbound', message_id: null, payload: '{}', status: 'delivered', next_attempt_at: OLD, created_at: iso(OLD) },
        { id: 'evt_pending', number_id: 'num_1', event: 'message.inbound', message_id: null, payload: '{}', status: 'pending', next_attempt_at: OLD, created_at: iso(OLD) },
      ])
      .execute();
    await t.store.db
      .insertInto('idempotency_keys')
      .values({ api_key_id: 'k', number_id: 'num_1', idem_key: 'i1', request_hash: 'h', message_id: 'new', response: '{}', created_at: OLD })
      .execute();
    await mediaFile('m_old', 'a'.repeat(64), OLD);
    await mediaFile('m_shared_old', 'b'.repeat(64), OLD);
    await mediaFile('m_shared_new', 'b'.repeat(64), NOW);
    await t.store.db.insertInto('sms_undecodable').values({ line_id: 'l1', pdu: '00', error_code: 'x', error_offset: 0, reason: 'r', received_at: iso(OLD) }).execute();
    await t.store.db
      .insertInto('calls')
      .values([
        { id: 'call_old', number_id: 'num_1', direction: 'inbound', contact: '+1555', status: 'completed', greeting: 'hello', instructions: 'be nice', created_at: iso(OLD) },
        { id: 'call_live', number_id: 'num_1', direction: 'inbound', contact: '+1555', status: 'in-progress', greeting: 'hello', created_at: iso(OLD) },
      ])
      .execute();
    await t.store.db
      .insertInto('call_turns')
      .values([
        { call_id: 'call_old', seq: 1, caller_text: 'hi', action: 'reply', created_at: iso(OLD) },
        { call_id: 'call_old', seq: 2, caller_text: 'bye', action: 'hangup', created_at: iso(OLD) },
        { call_id: 'call_live', seq: 1, caller_text: 'hi', action: 'reply', created_at: iso(OLD) },
      ])
      .execute();

    const cutoff = NOW - 30 * DAY;
    const counts = await purgeStored(t.store, mediaDir, { messagesBeforeMs: cutoff, transcriptsBeforeMs: cutoff });
    expect(counts).toEqual({ messages: many, deliveries: 1, media: 2, mediaFiles: 1, inboundRecords: 1, callTranscripts: 2 });

    const ids = (await t.store.db.selectFrom('messages').select('id').orderBy('id').execute()).map((r) => r.id);
    expect(ids).toEqual(['new', 'queued_old']);
    expect((await t.store.db.selectFrom('outbox').select('id').execute()).map((r) => r.id)).toEqual(['evt_pending']);
    expect(await t.store.db.selectFrom('idempotency_keys').selectAll().execute()).toEqual([]);
    expect((await t.store.db.selectFrom('media').select('id').execute()).map((r) => r.id)).toEqual(['m_shared_new']);
    expect(existsSync(mediaFilePath(mediaDir, 'a'.repeat(64)))).toBe(false);
    expect(existsSync(mediaFilePath(mediaDir, 'b'.repeat(64)))).toBe(true);
    expect((await t.store.db.selectFrom('call_turns').select('call_id').execute()).map((r) => r.call_id)).toEqual(['call_live']);
    const calls = await t.store.db.selectFrom('calls').select(['id', 'greeting', 'instructions']).orderBy('id').execute();
    expect(calls).toEqual([
      { id: 'call_live', greeting: 'hello', instructions: null },
      { id: 'call_old', greeting: null, instructions: null },
    ]);

    // A second run (or another node's, at once) finds nothing left to delete.
    const again = await Promise.all([purgeStored(t.store, mediaDir, { messagesBeforeMs: cutoff }), purgeStored(t.store, mediaDir, { messagesBeforeMs: cutoff })]);
    for (const c of again) expect(c).toEqual({ messages: 0, deliveries: 0, media: 0, mediaFiles: 0, inboundRecords: 0, callTranscripts: 0 });
  });
});
