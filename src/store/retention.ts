/**
 * Retention: deletes stored messages (and everything that repeats their text or media) and
 * call transcripts older than a cutoff. Run by the gateway's purge job and `agentphone purge`.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from './sql/database.ts';
import type { SqlStore } from './sql/sql-store.ts';

/** What one purge removed. */
export interface PurgeCounts {
  messages: number;
  /** Webhook deliveries (delivered or dead) whose payload repeated a message or call. */
  deliveries: number;
  media: number;
  /** Media files no row pointed at any more, deleted from disk. */
  mediaFiles: number;
  /** Inbound MMS notifications, raw WAP pushes and undecodable PDUs (they carry sender and content). */
  inboundRecords: number;
  callTranscripts: number;
}

export interface PurgeCutoffs {
  /** Messages created before this instant (ms) go; undefined keeps them. */
  messagesBeforeMs?: number | undefined;
  /** Call transcripts of calls created before this instant (ms) go; undefined keeps them. */
  transcriptsBeforeMs?: number | undefined;
}

/** Statuses of a message still on its way out; never purged, whatever their age. */
const IN_FLIGHT = ['queued', 'sending'];
const LIVE_CALL = ['queued', 'ringing', 'in-progress'];

/**
 * Rows deleted per statement. Each batch is its own short statement, so a purge of months of
 * history never holds the SQLite write lock (or PostgreSQL row locks) long enough to stall sends.
 */
export const PURGE_BATCH_ROWS = 500;

/** A media file's path under the media directory (content-addressed, as MediaStore writes them). */
export function mediaFilePath(mediaDir: string, sha256: string): string {
  return join(mediaDir, sha256.slice(0, 2), sha256);
}

/** Runs `batch` until it deletes fewer than a full batch; the total it deleted. */
async function drain(batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await batch();
    total += n;
    if (n < PURGE_BATCH_ROWS) return total;
  }
}

/**
 * Deletes one batch of old media rows and returns the files none of the rows left points at. In
 * one transaction, so the "still used?" check sees the store just after the delete.
 */
async function purgeMediaBatch(store: SqlStore<Database>, beforeMs: number): Promise<{ deleted: number; orphans: string[] }> {
  return store.tx(async (tx) => {
    const gone = await tx
      .deleteFrom('media')
      .where('id', 'in', (eb) => eb.selectFrom('media').select('id').where('created_at', '<', beforeMs).limit(PURGE_BATCH_ROWS))
      .returning('sha256')
      .execute();
    const shas = [...new Set(gone.map((r) => r.sha256))];
    if (shas.length === 0) return { deleted: gone.length, orphans: [] };
    const used = await tx.selectFrom('media').select('sha256').distinct().where('sha256', 'in', shas).execute();
    const inUse = new Set(used.map((r) => r.sha256));
    return { deleted: gone.length, orphans: shas.filter((sha) => !inUse.has(sha)) };
  });
}

async function purgeMessages(store: SqlStore<Database>, beforeMs: number): Promise<Omit<PurgeCounts, 'callTranscripts' | 'mediaFiles'> & { orphans: string[] }> {
  const db = store.db;
  const iso = new Date(beforeMs).toISOString();
  const orphans: string[] = [];
  const media = await drain(async () => {
    const batch = await purgeMediaBatch(store, beforeMs);
    orphans.push(...batch.orphans);
    return batch.deleted;
  });
  // message_parts and mms_outbound go with their message (ON DELETE CASCADE).
  const messages = await drain(() =>
    deleted(
      db.deleteFrom('messages').where('id', 'in', (eb) =>
        eb.selectFrom('messages').select('id').where('created_at', '<', iso).where('status', 'not in', IN_FLIGHT).limit(PURGE_BATCH_ROWS),
      ),
    ),
  );
  const deliveries = await drain(() =>
    deleted(
      db.deleteFrom('outbox').where('id', 'in', (eb) =>
        eb.selectFrom('outbox').select('id').where('created_at', '<', iso).where('status', 'in', ['delivered', 'dead']).limit(PURGE_BATCH_ROWS),
      ),
    ),
  );
  await drain(() =>
    deleted(
      db.deleteFrom('idempotency_keys').where((eb) =>
        eb(
          eb.refTuple('api_key_id', 'number_id', 'idem_key'),
          'in',
          eb.selectFrom('idempotency_keys').select(['api_key_id', 'number_id', 'idem_key']).where('created_at', '<', beforeMs).limit(PURGE_BATCH_ROWS).$asTuple('api_key_id', 'number_id', 'idem_key'),
        ),
      ),
    ),
  );
  const mmsInbound = await drain(() =>
    deleted(
      db.deleteFrom('mms_inbound').where('id', 'in', (eb) =>
        eb.selectFrom('mms_inbound').select('id').where('created_at', '<', beforeMs).where('status', '<>', 'pending').limit(PURGE_BATCH_ROWS),
      ),
    ),
  );
  const rawPushes = await drain(() =>
    deleted(
      db.deleteFrom('mms_raw_pushes').where('id', 'in', (eb) => eb.selectFrom('mms_raw_pushes').select('id').where('created_at', '<', beforeMs).limit(PURGE_BATCH_ROWS)),
    ),
  );
  const undecodable = await drain(() =>
    deleted(
      db.deleteFrom('sms_undecodable').where('id', 'in', (eb) => eb.selectFrom('sms_undecodable').select('id').where('received_at', '<', iso).limit(PURGE_BATCH_ROWS)),
    ),
  );
  return { messages, deliveries, media, inboundRecords: mmsInbound + rawPushes + undecodable, orphans };
}

/** Turns (what each side said), greeting and instructions of ended calls; the call record (times, minutes) stays. */
async function purgeTranscripts(db: Kysely<Database>, beforeMs: number): Promise<number> {
  const iso = new Date(beforeMs).toISOString();
  const turns = await drain(() =>
    deleted(
      db.deleteFrom('call_turns').where((eb) =>
        eb(
          eb.refTuple('call_id', 'seq'),
          'in',
          eb
            .selectFrom('call_turns as t')
            .innerJoin('calls as c', 'c.id', 't.call_id')
            .select(['t.call_id', 't.seq'])
            .where('c.created_at', '<', iso)
            .where('c.status', 'not in', LIVE_CALL)
            .limit(PURGE_BATCH_ROWS)
            .$asTuple('call_id', 'seq'),
        ),
      ),
    ),
  );
  await drain(async () => {
    const res = await db
      .updateTable('calls')
      .set({ greeting: null, instructions: null })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('calls')
          .select('id')
          .where('created_at', '<', iso)
          .where('status', 'not in', LIVE_CALL)
          .where((w) => w.or([w('greeting', 'is not', null), w('instructions', 'is not', null)]))
          .limit(PURGE_BATCH_ROWS),
      )
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  });
  return turns;
}

async function deleted(query: { executeTakeFirst(): Promise<{ numDeletedRows: bigint }> }): Promise<number> {
  return Number((await query.executeTakeFirst()).numDeletedRows);
}

/**
 * Deletes what is older than the cutoffs, in bounded batches (each one atomic; a purge cut short
 * leaves only whole rows behind and the next run goes on), then the media files left unused.
 * Several nodes may purge at once: a row is deleted once, the other's batch finds it gone.
 */
export async function purgeStored(store: SqlStore<Database>, mediaDir: string, cutoffs: PurgeCutoffs): Promise<PurgeCounts> {
  const { messagesBeforeMs, transcriptsBeforeMs } = cutoffs;
  const m = messagesBeforeMs === undefined ? { messages: 0, deliveries: 0, media: 0, inboundRecords: 0, orphans: [] } : await purgeMessages(store, messagesBeforeMs);
  const callTranscripts = transcriptsBeforeMs === undefined ? 0 : await purgeTranscripts(store.db, transcriptsBeforeMs);
  let mediaFiles = 0;
  for (const sha of new Set(m.orphans)) {
    try {
      await unlink(mediaFilePath(mediaDir, sha));
      mediaFiles++;
    } catch {
      // Already gone (removed by the media cleanup, or never written): nothing left to delete.
    }
  }
  const { orphans: _orphans, ...counts } = m;
  return { ...counts, callTranscripts, mediaFiles };
}

const DAY_MS = 86_400_000;

/** The cutoffs retention settings give at `nowMs` (0 days: kept forever). */
export function retentionCutoffs(settings: { messagesDays: number; callTranscriptsDays: number }, nowMs: number): PurgeCutoffs {
  return {
    ...(settings.messagesDays > 0 && { messagesBeforeMs: nowMs - settings.messagesDays * DAY_MS }),
    ...(settings.callTranscriptsDays > 0 && { transcriptsBeforeMs: nowMs - settings.callTranscriptsDays * DAY_MS }),
  };
}
