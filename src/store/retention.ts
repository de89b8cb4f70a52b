/**
 * Retention: deletes stored messages (and everything that repeats their text or media) and
 * call transcripts older than a cutoff. Run by the gateway's purge job and `agentphone purge`.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.ts';

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
const IN_FLIGHT = `('queued', 'sending')`;
const LIVE_CALL = `('queued', 'ringing', 'in-progress')`;

/** A media file's path under the media directory (content-addressed, as MediaStore writes them). */
export function mediaFilePath(mediaDir: string, sha256: string): string {
  return join(mediaDir, sha256.slice(0, 2), sha256);
}

function purgeMessages(db: Db, beforeMs: number): Omit<PurgeCounts, 'callTranscripts' | 'mediaFiles'> & { orphans: string[] } {
  const iso = new Date(beforeMs).toISOString();
  const shas = db.prepare<[number], { sha256: string }>(`SELECT DISTINCT sha256 FROM media WHERE created_at < ?`).all(beforeMs).map((r) => r.sha256);
  const media = db.prepare(`DELETE FROM media WHERE created_at < ?`).run(beforeMs).changes;
  const inUse = db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM media WHERE sha256 = ?`);
  const orphans = shas.filter((sha) => (inUse.get(sha)?.n ?? 0) === 0);
  // message_parts and mms_outbound go with their message (ON DELETE CASCADE).
  const messages = db.prepare(`DELETE FROM messages WHERE created_at < ? AND status NOT IN ${IN_FLIGHT}`).run(iso).changes;
  const deliveries = db.prepare(`DELETE FROM outbox WHERE created_at < ? AND status IN ('delivered', 'dead')`).run(iso).changes;
  db.prepare(`DELETE FROM idempotency_keys WHERE created_at < ?`).run(beforeMs);
  const inboundRecords =
    db.prepare(`DELETE FROM mms_inbound WHERE created_at < ? AND status <> 'pending'`).run(beforeMs).changes +
    db.prepare(`DELETE FROM mms_raw_pushes WHERE created_at < ?`).run(beforeMs).changes +
    db.prepare(`DELETE FROM sms_undecodable WHERE received_at < ?`).run(iso).changes;
  return { messages, deliveries, media, inboundRecords, orphans };
}

/** Turns (what each side said), greeting and instructions of ended calls; the call record (times, minutes) stays. */
function purgeTranscripts(db: Db, beforeMs: number): number {
  const iso = new Date(beforeMs).toISOString();
  const ended = `SELECT id FROM calls WHERE created_at < ? AND status NOT IN ${LIVE_CALL}`;
  const turns = db.prepare(`DELETE FROM call_turns WHERE call_id IN (${ended})`).run(iso).changes;
  db.prepare(`UPDATE calls SET greeting = NULL, instructions = NULL WHERE id IN (${ended}) AND (greeting IS NOT NULL OR instructions IS NOT NULL)`).run(iso);
  return turns;
}

/** Deletes what is older than the cutoffs in one transaction, then the media files left unused. */
export async function purgeStored(db: Db, mediaDir: string, cutoffs: PurgeCutoffs): Promise<PurgeCounts> {
  const { messagesBeforeMs, transcriptsBeforeMs } = cutoffs;
  const done = db.transaction(() => {
    const m = messagesBeforeMs === undefined ? { messages: 0, deliveries: 0, media: 0, inboundRecords: 0, orphans: [] } : purgeMessages(db, messagesBeforeMs);
    const callTranscripts = transcriptsBeforeMs === undefined ? 0 : purgeTranscripts(db, transcriptsBeforeMs);
    return { ...m, callTranscripts };
  })();
  let mediaFiles = 0;
  for (const sha of done.orphans) {
    try {
      await unlink(mediaFilePath(mediaDir, sha));
      mediaFiles++;
    } catch {
      // Already gone (removed by the media cleanup, or never written): nothing left to delete.
    }
  }
  const { orphans: _orphans, ...counts } = done;
  return { ...counts, mediaFiles };
}

const DAY_MS = 86_400_000;

/** The cutoffs retention settings give at `nowMs` (0 days: kept forever). */
export function retentionCutoffs(settings: { messagesDays: number; callTranscriptsDays: number }, nowMs: number): PurgeCutoffs {
  return {
    ...(settings.messagesDays > 0 && { messagesBeforeMs: nowMs - settings.messagesDays * DAY_MS }),
    ...(settings.callTranscriptsDays > 0 && { transcriptsBeforeMs: nowMs - settings.callTranscriptsDays * DAY_MS }),
  };
}
