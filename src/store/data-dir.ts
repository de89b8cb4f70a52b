import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/*
 * The data dir holds every message, the webhook secrets and the admin token: it is the
 * operator's alone. What AgentPhone creates gets these modes explicitly (chmod after create),
 * whatever the process umask; what already exists is left as the operator set it and reported.
 */
export const PRIVATE_DIR_MODE = 0o700;
/** Received and fetched media files, under the data dir. */
export const MEDIA_DIR = 'media';

/** Where a data dir keeps its media files. */
export function mediaDir(dataDir: string): string {
  return join(dataDir, MEDIA_DIR);
}

export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) as 0700; an existing directory is left as it is. */
export function ensurePrivateDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // mkdir's mode is masked by the umask: set it on every directory this call made.
  for (let d = dir; ; d = dirname(d)) {
    chmodSync(d, PRIVATE_DIR_MODE);
    if (d === first || dirname(d) === d) break;
  }
}

/** Creates an empty `file` as 0600 unless it exists; returns whether it was created. */
export function ensurePrivateFile(file: string): boolean {
  try {
    closeSync(openSync(file, 'wx', PRIVATE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  chmodSync(file, PRIVATE_FILE_MODE);
  return true;
}

/** Sets 0600 on `file` if it exists (SQLite's -wal and -shm come and go with the connection). */
export function restrictIfPresent(file: string): void {
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface LooseEntry {
  path: string;
  /** Octal, as ls and chmod write it: '0755'. */
  mode: string;
  /** The mode AgentPhone gives it. */
  wanted: string;
}

/** `dataDir` and the named entries in it that group or others can read, write or enter. */
export function looseModes(dataDir: string, entries: readonly string[]): LooseEntry[] {
  const loose: LooseEntry[] = [];
  for (const path of [dataDir, ...entries.map((e) => join(dataDir, e))]) {
    let mode: number;
    let isDir: boolean;
    try {
      const st = statSync(path);
      mode = st.mode & 0o777;
      isDir = st.isDirectory();
    } catch {
      continue;
    }
    if ((mode & 0o077) !== 0) loose.push({ path, mode: octal(mode), wanted: octal(isDir ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE) });
  }
  return loose;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
