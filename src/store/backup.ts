import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors/index.ts';
import { ensurePrivateDir, mediaDir, PRIVATE_FILE_MODE } from './data-dir.ts';
import { currentSchemaVersion, DATABASE_FILE, openDatabase } from './db.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { mediaFilePath } from './retention.ts';

/*
 * A backup is one SQLite file: SQLite's online backup of the store (a consistent snapshot taken
 * while the gateway keeps writing) plus the stored media files that snapshot refers to, as
 * blobs in one extra table. Restore checks it, unpacks the media and drops that table.
 */
const MEDIA_TABLE = 'agentphone_backup_media';
const SHA256 = /^[0-9a-f]{64}$/;

export interface BackupResult {
  file: string;
  schemaVersion: number;
  messages: number;
  mediaFiles: number;
  /** Media rows whose file was gone (purged or expired while the backup ran). */
  mediaMissing: number;
  bytes: number;
}

export interface RestoreResult {
  schemaVersion: number;
  messages: number;
  mediaFiles: number;
}

/** Backs `dataDir`'s store up into `file` (written beside it, then renamed: never a half backup under that name). */
export async function backupDataDir(dataDir: string, file: string, busyTimeoutMs = 5000): Promise<BackupResult> {
  const source = join(dataDir, DATABASE_FILE);
  if (!existsSync(source)) throw new StoreError(`no database at ${source}: nothing to back up`);
  const partial = `${file}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  // Read-only: the backup never writes the live store; the busy timeout rides out the gateway's
  // checkpoints.
  const live = new Database(source, { readonly: true, fileMustExist: true });
  try {
    live.pragma(`busy_timeout = ${busyTimeoutMs}`);
    await live.backup(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new StoreError(`backup of ${source} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    live.close();
  }
  chmodSync(partial, PRIVATE_FILE_MODE);
  const copy = new Database(partial);
  let result: Omit<BackupResult, 'bytes' | 'file'>;
  try {
    // One self-contained file: no -wal beside it.
    copy.pragma('journal_mode = DELETE');
    result = copy.transaction(() => packMedia(copy, mediaDir(dataDir)))();
  } catch (err) {
    copy.close();
    rmSync(partial, { force: true });
    throw err;
  }
  copy.close();
  renameSync(partial, file);
  return { file, ...result, bytes: statSync(file).size };
}

function packMedia(copy: Database.Database, mediaDir: string): Omit<BackupResult, 'bytes' | 'file'> {
  copy.exec(`CREATE TABLE ${MEDIA_TABLE} (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL)`);
  const insert = copy.prepare(`INSERT INTO ${MEDIA_TABLE} (sha256, data) VALUES (?, ?)`);
  // Media kept in media_blobs (media.store "database") are already in the snapshot: only files are packed.
  const filesOnly = hasTable(copy, 'media_blobs') ? ' WHERE id NOT IN (SELECT media_id FROM media_blobs)' : '';
  const shas = hasTable(copy, 'media') ? copy.prepare<[], { sha256: string }>(`SELECT DISTINCT sha256 FROM media${filesOnly}`).all() : [];
  let mediaFiles = 0;
  let mediaMissing = 0;
  for (const { sha256 } of shas) {
    if (!SHA256.test(sha256)) continue;
    let data: Buffer;
    try {
      data = readFileSync(mediaFilePath(mediaDir, sha256));
    } catch {
      mediaMissing++;
      continue;
    }
    insert.run(sha256, data);
    mediaFiles++;
  }
  return { schemaVersion: currentSchemaVersion(copy), messages: countMessages(copy), mediaFiles, mediaMissing };
}

/**
 * Replaces `dataDir`'s store with the backup in `file`. The backup is checked first (PRAGMA
 * integrity_check, a schema version this build knows), on a copy, before the live store is
 * touched; the old store is kept as agentphone.db.bak until the new one opens and migrates, and
 * put back if it does not. The caller holds the data-dir lock.
 */
export function restoreDataDir(dataDir: string, file: string): RestoreResult {
  if (!existsSync(file)) throw new StoreError(`no backup file at ${file}`);
  ensurePrivateDir(dataDir);
  const target = join(dataDir, DATABASE_FILE);
  const staged = `${target}.restore`;
  const bak = `${target}.bak`;
  copyFileSync(file, staged);
  chmodSync(staged, PRIVATE_FILE_MODE);
  let result: RestoreResult;
  try {
    result = unpackStaged(staged, mediaDir(dataDir), file);
  } catch (err) {
    rmSync(staged, { force: true });
    throw err;
  }
  const hadOld = existsSync(target);
  if (hadOld) {
    foldWal(target);
    renameSync(target, bak);
  }
  for (const sidecar of ['-wal', '-shm']) rmSync(target + sidecar, { force: true });
  renameSync(staged, target);
  try {
    // What the gateway will do at start: open and migrate. Only then is the old store let go.
    const db = openDatabase(target);
    try {
      const check = db.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new StoreError(`the restored database fails its integrity check: ${String(check)}`);
    } finally {
      db.close();
    }
  } catch (err) {
    for (const sidecar of ['', '-wal', '-shm']) rmSync(target + sidecar, { force: true });
    if (hadOld) renameSync(bak, target);
    throw err;
  }
  if (hadOld) rmSync(bak, { force: true });
  return result;
}

/** Checks the staged copy and moves its media into place; throws StoreError when it is not a usable backup. */
function unpackStaged(staged: string, mediaDir: string, file: string): RestoreResult {
  let db: Database.Database;
  try {
    db = new Database(staged, { fileMustExist: true });
  } catch (err) {
    throw new StoreError(`${file} is not an AgentPhone backup (${(err as Error).message})`, { cause: err });
  }
  try {
    let check: unknown;
    try {
      db.pragma('journal_mode = DELETE');
      check = db.pragma('integrity_check', { simple: true });
    } catch (err) {
      throw new StoreError(`${file} is not an AgentPhone backup (${(err as Error).message})`, { cause: err });
    }
    if (check !== 'ok') throw new StoreError(`${file} is damaged (integrity check: ${String(check)}); nothing was changed`);
    if (!hasTable(db, 'schema_version')) throw new StoreError(`${file} is not an AgentPhone backup (no schema_version table); nothing was changed`);
    const version = currentSchemaVersion(db);
    const known = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
    if (version > known) {
      throw new StoreError(`${file} is at schema version ${version} but this AgentPhone knows only up to ${known}: restore it with the release that made it (or newer); nothing was changed`);
    }
    let mediaFiles = 0;
    if (hasTable(db, MEDIA_TABLE)) {
      for (const row of db.prepare<[], { sha256: string; data: Buffer }>(`SELECT sha256, data FROM ${MEDIA_TABLE}`).iterate()) {
        // Content-addressed: a blob whose hash is not its name is refused, whatever the name says.
        if (!SHA256.test(row.sha256) || createHash('sha256').update(row.data).digest('hex') !== row.sha256) {
          throw new StoreError(`${file} holds a media file whose content does not match its hash; nothing was changed`);
        }
      }
      for (const row of db.prepare<[], { sha256: string; data: Buffer }>(`SELECT sha256, data FROM ${MEDIA_TABLE}`).iterate()) {
        writeMediaFile(mediaFilePath(mediaDir, row.sha256), row.data);
        mediaFiles++;
      }
      db.exec(`DROP TABLE ${MEDIA_TABLE}`);
      db.exec('VACUUM');
    }
    return { schemaVersion: version, messages: countMessages(db), mediaFiles };
  } finally {
    db.close();
  }
}

function writeMediaFile(path: string, data: Buffer): void {
  if (existsSync(path)) return;
  ensurePrivateDir(dirname(path));
  writeFileSync(`${path}.tmp`, data, { mode: PRIVATE_FILE_MODE });
  renameSync(`${path}.tmp`, path);
}

/** Copies the WAL's pages into the main file (and empties it), so the file alone is the whole store. */
function foldWal(file: string): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', name) !== undefined;
}

function countMessages(db: Database.Database): number {
  return hasTable(db, 'messages') ? (db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n : 0;
}
