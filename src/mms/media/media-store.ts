/**
 * Inbound media: rows in the store's `media` table, served by unguessable ids; the bytes in
 * content-addressed files under <dataDir>/media (FileMediaStore) or in the store's media_blobs
 * table (DatabaseMediaStore, so every node of a cluster serves every medium). This file holds
 * the port both implement and what they share.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
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

/** Where the bytes are kept (media.store once "auto" is resolved). */
export type MediaStoreKind = 'files' | 'database';

/** A medium written by `write`, to be made reachable by `insert` (in the message's transaction). */
export interface StagedMedia extends MediaRow {
  readonly data: Uint8Array;
}

/**
 * A stored, unexpired medium; its type and name are sanitised. Its bytes: undefined when they are
 * gone (purged meanwhile, or a file another node holds). Callers bound `size` before reading.
 */
export interface FoundMedia extends MediaRow {
  /** The bytes to send: a file stream or the database's copy. */
  body(): Promise<Readable | Buffer | undefined>;
  /** The bytes, whole. */
  read(): Promise<Buffer | undefined>;
}

/** The media store every user (MMS receive, GET /media, the MCP transcriber, the cleanup) goes through. */
export interface MediaStore {
  readonly kind: MediaStoreKind;
  urlOf(id: string): string;
  /** Where a file of this content is under the media directory (the database store's only for media stored before it). */
  pathOf(sha256: string): string;
  /** Keeps the bytes (files: written now; database: with `insert`) and returns the row to insert with the message. */
  write(data: Uint8Array, contentType: string, name: string | null): Promise<StagedMedia>;
  /**
   * Makes staged media reachable, on `tx` (the message's transaction) so they commit with it;
   * without `tx` in a transaction of their own.
   */
  insert(rows: readonly StagedMedia[], messageId: string, tx?: Kysely<Database>): Promise<StoredMedia[]>;
  lookup(id: string): Promise<FoundMedia | undefined>;
  /** Deletes expired media (rows, their bytes, and files no row points at any more); returns rows removed. */
  cleanup(): Promise<number>;
}

export interface MediaStoreOptions {
  /** The media directory: where FileMediaStore writes, and where either finds files stored before. */
  dir: string;
  /** Where the media rows (and, for the database store, their bytes) live. */
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

/** What both stores share: the rows, their expiry, URLs and the cleanup. */
export abstract class SqlMediaStore implements MediaStore {
  abstract readonly kind: MediaStoreKind;
  protected readonly repo: MmsRepository;

  constructor(protected readonly o: MediaStoreOptions) {
    this.repo = new MmsRepository(o.store.db);
  }

  /** Where a file of this content is (or would be) under the media directory. */
  pathOf(sha256: string): string {
    return mediaFilePath(this.o.dir, sha256);
  }

  urlOf(id: string): string {
    return `${this.o.baseUrl().replace(/\/+$/, '')}/media/${id}`;
  }

  /** Called by `write` with the sanitised row, before it is returned. */
  protected abstract stage(staged: StagedMedia): Promise<void>;
  /** Keeps the bytes of a staged medium with its row, in the row's transaction. */
  protected abstract keep(staged: StagedMedia, tx: Kysely<Database>): Promise<void>;
  /** A row's bytes kept in the store; undefined sends the reader to the row's file. */
  protected abstract storedBytes(row: MediaRow): Promise<Buffer | undefined>;

  async write(data: Uint8Array, contentType: string, name: string | null): Promise<StagedMedia> {
    const now = this.o.clock.now();
    const staged: StagedMedia = {
      id: base62(randomBytes(16)),
      sha256: createHash('sha256').update(data).digest('hex'),
      contentType: safeContentType(contentType),
      size: data.length,
      name: safeMediaName(name),
      messageId: null,
      createdAt: now,
      expiresAt: this.o.retentionDays > 0 ? now + this.o.retentionDays * 86_400_000 : null,
      data,
    };
    await this.stage(staged);
    return staged;
  }

  async insert(rows: readonly StagedMedia[], messageId: string, tx?: Kysely<Database>): Promise<StoredMedia[]> {
    if (!tx) return rows.length === 0 ? [] : this.o.store.tx((t) => this.insert(rows, messageId, t));
    const repo = new MmsRepository(tx);
    const stored: StoredMedia[] = [];
    for (const staged of rows) {
      const { data: _data, ...row } = staged;
      await repo.insertMedia({ ...row, messageId });
      await this.keep(staged, tx);
      stored.push({ id: row.id, url: this.urlOf(row.id), contentType: row.contentType, size: row.size });
    }
    return stored;
  }

  async lookup(id: string): Promise<FoundMedia | undefined> {
    const row = await this.repo.media(id);
    if (!row || (row.expiresAt !== null && row.expiresAt <= this.o.clock.now())) return undefined;
    const path = this.pathOf(row.sha256);
    return {
      ...row,
      contentType: safeContentType(row.contentType),
      name: safeMediaName(row.name),
      body: async () => (await this.storedBytes(row)) ?? (await ifPresent(async () => (await open(path)).createReadStream())),
      read: async () => (await this.storedBytes(row)) ?? (await ifPresent(() => readFile(path))),
    };
  }

  async cleanup(): Promise<number> {
    const now = this.o.clock.now();
    // Rows (and their media_blobs, ON DELETE CASCADE) go in one transaction; files only once it
    // has committed: a rollback cannot bring back a file.
    const { removed, orphans } = await this.o.store.tx(async (tx) => {
      const repo = new MmsRepository(tx);
      const expired = await repo.expiredMedia(now);
      for (const m of expired) await repo.deleteMedia(m.id);
      const unused: string[] = [];
      for (const sha of new Set(expired.map((m) => m.sha256))) if (!(await repo.shaInUse(sha))) unused.push(sha);
      return { removed: expired.length, orphans: unused };
    });
    // The database store has files only from before it was chosen; none there, nothing unlinked.
    for (const sha of orphans) await unlink(this.pathOf(sha)).catch(() => undefined);
    return removed;
  }
}

/** What `io` gives, or undefined when the file is not there. */
async function ifPresent<T>(io: () => Promise<T>): Promise<T | undefined> {
  try {
    return await io();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
