/** Inbound media: content-addressed files under <dataDir>/media, served by unguessable ids. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock/index.ts';
import { base62 } from '../../ids/index.ts';
import { mediaFilePath, type Database, type SqlStore } from '../../store/index.ts';
import { MmsRepository, type MediaRow } from '../mms-repository.ts';

export interface StoredMedia {
  id: string;
  url: string;
  contentType: string;
  size: number;
}

export interface MediaStoreOptions {
  dir: string;
  /** Where the media rows live (the bytes stay in files under `dir`). */
  store: SqlStore<Database>;
  clock: Clock;
  /** Days a stored file is kept; 0 keeps it forever. */
  retentionDays: number;
  /** The absolute base the URLs start with (server.publicUrl, or the gateway's own address). */
  baseUrl: () => string;
}

/** A media type token (RFC 9110 `token "/" token`), lower-cased. */
const TYPE = /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/;
const CHARSET = /(?:^|;)\s*charset\s*=\s*"?([a-z0-9!#$&^_.+-]{1,40})"?\s*(?:;|$)/;

/**
 * The content type a sender declared, reduced to `type/subtype` and a well-formed charset;
 * anything else (CR/LF, controls, non-ASCII, garbage) becomes application/octet-stream.
 * Applied when media is stored and again when read, for rows stored before it existed.
 */
export function safeContentType(declared: string | null | undefined): string {
  const lower = (declared ?? '').toLowerCase();
  const [essence = '', ...params] = lower.split(';');
  const type = essence.trim();
  if (!TYPE.test(type)) return 'application/octet-stream';
  const charset = CHARSET.exec(`;${params.join(';')}`)?.[1];
  return charset ? `${type}; charset=${charset}` : type;
}

/**
 * Controls (C0, DEL, C1), bidi marks, overrides and isolates (which disguise an extension),
 * path separators, and lone surrogates (not writable as UTF-8 in a header).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\\p{Cs}]/gu;

/** A sender's file name fit to store and show: no controls or separators, at most 255 characters; null when nothing is left. */
export function safeMediaName(name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null;
  const cleaned = [...name.replace(UNSAFE_NAME_CHARS, '_').trim()].slice(0, 255).join('');
  return cleaned === '' ? null : cleaned;
}

export class MediaStore {
  private readonly repo: MmsRepository;

  constructor(private readonly o: MediaStoreOptions) {
    this.repo = new MmsRepository(o.store.db);
  }

  pathOf(sha256: string): string {
    return mediaFilePath(this.o.dir, sha256);
  }

  urlOf(id: string): string {
    return `${this.o.baseUrl().replace(/\/+$/, '')}/media/${id}`;
  }

  /** Writes the bytes (once per content) and returns the row to insert with the message. */
  async write(data: Uint8Array, contentType: string, name: string | null): Promise<MediaRow> {
    contentType = safeContentType(contentType);
    name = safeMediaName(name);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const path = this.pathOf(sha256);
    await mkdir(join(this.o.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    // Write-then-rename: a reader never sees half a file, and equal content lands once.
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, path);
    const now = this.o.clock.now();
    return {
      id: base62(randomBytes(16)),
      sha256,
      contentType,
      size: data.length,
      name,
      messageId: null,
      createdAt: now,
      expiresAt: this.o.retentionDays > 0 ? now + this.o.retentionDays * 86_400_000 : null,
    };
  }

  /**
   * The rows that make the files reachable, written on `tx`: the message's transaction, so
   * they commit with it. Without `tx` each row is a statement of its own.
   */
  async insert(rows: readonly MediaRow[], messageId: string, tx?: Kysely<Database>): Promise<StoredMedia[]> {
    const repo = tx ? new MmsRepository(tx) : this.repo;
    const stored: StoredMedia[] = [];
    for (const row of rows) {
      await repo.insertMedia({ ...row, messageId });
      stored.push({ id: row.id, url: this.urlOf(row.id), contentType: row.contentType, size: row.size });
    }
    return stored;
  }

  async lookup(id: string): Promise<(MediaRow & { path: string }) | undefined> {
    const row = await this.repo.media(id);
    if (!row || (row.expiresAt !== null && row.expiresAt <= this.o.clock.now())) return undefined;
    return { ...row, contentType: safeContentType(row.contentType), name: safeMediaName(row.name), path: this.pathOf(row.sha256) };
  }

  /** Deletes expired media rows, and files no row points at any more; returns rows removed. */
  async cleanup(): Promise<number> {
    const now = this.o.clock.now();
    // Files go only once the rows' deletion has committed: a rollback cannot bring back a file.
    const { removed, orphans } = await this.o.store.tx(async (tx) => {
      const repo = new MmsRepository(tx);
      const expired = await repo.expiredMedia(now);
      for (const m of expired) await repo.deleteMedia(m.id);
      const unused: string[] = [];
      for (const sha of new Set(expired.map((m) => m.sha256))) if (!(await repo.shaInUse(sha))) unused.push(sha);
      return { removed: expired.length, orphans: unused };
    });
    for (const sha of orphans) await unlink(this.pathOf(sha)).catch(() => undefined);
    return removed;
  }
}
