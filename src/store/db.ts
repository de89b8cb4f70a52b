import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDir, ensurePrivateFile, restrictIfPresent } from './data-dir.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import { pendingMigrations, refuseNewerSchema } from './schema-version.ts';

export type Db = Database.Database;

export const DATABASE_FILE = 'agentphone.db';
/** The database and the WAL sidecars SQLite keeps beside it while it is open. */
export const DATABASE_FILES = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`] as const;

export interface OpenDatabaseOptions {
  migrations?: readonly Migration[];
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the SQLite store: WAL, foreign keys, busy timeout, and every
 * pending migration applied in one transaction. A database written by newer code is refused
 * before anything is changed. A new database file is created 0600 (its directory 0700) before
 * SQLite opens it, so the -wal and -shm files SQLite makes with the database's mode are 0600 too.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  const onDisk = file !== ':memory:';
  if (onDisk) {
    ensurePrivateDir(dirname(file));
    ensurePrivateFile(file);
  }
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    // The send path walks several B-trees per message: keep their pages in memory (64 MiB of
    // cache instead of SQLite's 2 MiB) and read the file through mmap rather than a pread each.
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    // A statement that fires a trigger (every message insert: the conversations upsert of
    // migration 017) keeps a statement journal; with temp files on disk SQLite opens one per
    // such statement, which tripled the cost of a message insert. Temporary data stays in memory.
    db.pragma('temp_store = MEMORY');
    migrate(db, options.migrations ?? MIGRATIONS);
    // SQLite made these with the database's mode; set ours explicitly all the same.
    if (onDisk) for (const sidecar of ['-wal', '-shm']) restrictIfPresent(file + sidecar);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Applies pending migrations; returns the versions applied. */
export function migrate(db: Db, migrations: readonly Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  refuseNewerSchema(currentSchemaVersion(db), migrations);
  const applied = (db.prepare('SELECT version FROM schema_version').all() as { version: number }[]).map((r) => r.version);
  const pending = pendingMigrations(migrations, applied);
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.up);
      record.run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
  return pending.map((m) => m.version);
}

export function currentSchemaVersion(db: Db): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}
