import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AgentPhoneError } from '../errors/index.ts';

/*
 * One gateway per data dir. The lock is an SQLite EXCLUSIVE lock on gateway.lock, i.e. a
 * kernel (fcntl) lock: the kernel drops it when the process ends, however it ends (kill -9,
 * a crash, the OOM killer), so a dead holder never blocks a restart and a reused pid never
 * looks alive. The file itself stays (removing it would let a waiter lock an unlinked inode
 * while a third process locks the new file); gateway.pid beside it names the holder for
 * people and tools and is removed on a clean stop.
 *
 * Never open gateway.lock with node:fs in the holding process: closing any descriptor of the
 * file drops the process's fcntl locks on it. Read it only through readDataDirLock.
 */
export const LOCK_FILE = 'gateway.lock';
export const PID_FILE = 'gateway.pid';
/** Covers readDataDirLock's momentary shared lock, so a probe never refuses a starting gateway. */
const ACQUIRE_WAIT_MS = 2000;

export interface DataDirLockInfo {
  /** The holder's pid; null only when it cannot be told (no /proc/locks and no gateway.pid yet). */
  pid: number | null;
  /** True while the holder runs; false for a lock left by a gateway that died (crash, kill -9). */
  alive: boolean;
}

export interface DataDirLock {
  readonly file: string;
  /** A gateway that died holding this data dir (its pid), whose lock this one took over. */
  readonly takenOverFrom: number | undefined;
  /** Frees the data dir; idempotent. Exiting frees it too, even without this. */
  release(): void;
}

export class DataDirLockedError extends AgentPhoneError {
  readonly dataDir: string;
  readonly holderPid: number | null;
  constructor(dataDir: string, holderPid: number | null) {
    const who = holderPid === null ? 'another process' : `pid ${holderPid}`;
    super('DATA_DIR_LOCKED', `the data directory ${dataDir} is in use by another AgentPhone gateway (${who})`);
    this.dataDir = dataDir;
    this.holderPid = holderPid;
  }
}

/** Takes the data dir for this process or throws DataDirLockedError naming the holder. `dataDir` must exist. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  const db = new Database(file);
  let previous: number | undefined;
  try {
    chmodSync(file, 0o600);
    db.pragma(`busy_timeout = ${ACQUIRE_WAIT_MS}`);
    db.pragma('locking_mode = EXCLUSIVE');
    // A rollback journal, not WAL: the EXCLUSIVE lock then covers readers too and stays held.
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    previous = (db.prepare('SELECT pid FROM holder LIMIT 1').get() as { pid: number } | undefined)?.pid;
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString());
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (isBusy(err)) throw new DataDirLockedError(dataDir, holderPid(dataDir));
    throw err;
  }
  const pidFile = join(dataDir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  let held = true;
  return {
    file,
    takenOverFrom: previous,
    release() {
      if (!held) return;
      held = false;
      try {
        // Forget the holder, so readDataDirLock reports a free dir rather than a dead gateway.
        db.exec('DELETE FROM holder');
        if (readPidFile(dataDir) === process.pid) rmSync(pidFile, { force: true });
      } finally {
        db.close();
      }
    },
  };
}

/**
 * Who holds `dataDir`: null when nobody does (or it was released cleanly), {alive: true} while
 * a gateway runs on it, {alive: false} when the last one died holding it.
 */
export function readDataDirLock(dataDir: string): DataDirLockInfo | null {
  const file = join(dataDir, LOCK_FILE);
  if (!existsSync(file)) return null;
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') return null;
    throw err;
  }
  try {
    db.pragma('busy_timeout = 0');
    const row = db.prepare('SELECT pid FROM holder LIMIT 1').get() as { pid: number } | undefined;
    return row === undefined ? null : { pid: row.pid, alive: false };
  } catch (err) {
    if (isBusy(err)) return { pid: holderPid(dataDir), alive: true };
    // No holder table: the lock was never completed.
    if (err instanceof Error && /no such table/.test(err.message)) return null;
    throw err;
  } finally {
    db.close();
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** The holding process as the kernel reports it, else as gateway.pid says. */
function holderPid(dataDir: string): number | null {
  return lockOwner(join(dataDir, LOCK_FILE)) ?? readPidFile(dataDir);
}

function readPidFile(dataDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, PID_FILE), 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * The pid holding a POSIX write lock on `file`, from Linux's /proc/locks
 * ("1: POSIX  ADVISORY  WRITE 25247 fe:00:2213473 1073741824 1073742335"); null elsewhere.
 */
function lockOwner(file: string): number | null {
  let table: string;
  let st: { dev: bigint; ino: bigint };
  try {
    table = readFileSync('/proc/locks', 'utf8');
    st = statSync(file, { bigint: true });
  } catch {
    return null;
  }
  // glibc's dev_t split: major bits 8-19 and 32+, minor bits 0-7 and 20+.
  const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
  const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
  for (const line of table.split('\n')) {
    const m = /^\d+:\s+POSIX\s+\S+\s+WRITE\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m && BigInt(`0x${m[2]}`) === major && BigInt(`0x${m[3]}`) === minor && BigInt(m[4] as string) === st.ino) return Number(m[1]);
  }
  return null;
}
