import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE, PID_FILE, readDataDirLock } from '../../src/lifecycle/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const HOLDER = join(import.meta.dirname, 'fixtures', 'hold-data-lock.ts');

describe('data directory lock', () => {
  const tempDir = useTempDir();
  const holders: ChildProcess[] = [];
  afterEach(() => {
    for (const h of holders.splice(0)) h.kill('SIGKILL');
  });

  /** Another real process holding `dir`'s lock. */
  async function holdInChild(dir: string): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    holders.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      void exited.then((code) => reject(new Error(`lock holder exited ${code}`)));
    });
    return { child, exited };
  }

  it('is free in a fresh dir, held while taken, refused to a second taker in the same process, free again once released', () => {
    const dir = tempDir();
    expect(readDataDirLock(dir)).toBeNull();
    const lock = acquireDataDirLock(dir);
    expect(lock.takenOverFrom).toBeUndefined();
    expect(readDataDirLock(dir)).toEqual({ pid: process.pid, alive: true });
    expect(readFileSync(join(dir, PID_FILE), 'utf8')).toBe(`${process.pid}\n`);
    expect(() => acquireDataDirLock(dir)).toThrow(new DataDirLockedError(dir, process.pid));
    // The refused attempt and the probes left the lock held.
    expect(readDataDirLock(dir)).toEqual({ pid: process.pid, alive: true });
    lock.release();
    lock.release();
    expect(readDataDirLock(dir)).toBeNull();
    expect(existsSync(join(dir, PID_FILE))).toBe(false);
    const again = acquireDataDirLock(dir);
    expect(again.takenOverFrom).toBeUndefined();
    again.release();
  });

  it('another process holding the dir is named by its pid; once it is killed with -9 the lock is stale and taken over', async () => {
    const dir = tempDir();
    const holder = await holdInChild(dir);
    expect(readDataDirLock(dir)).toEqual({ pid: holder.child.pid, alive: true });
    let refused: unknown;
    try {
      acquireDataDirLock(dir);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as DataDirLockedError).holderPid).toBe(holder.child.pid);

    holder.child.kill('SIGKILL');
    await holder.exited;
    // The kernel dropped the lock with the process; what it wrote says who died holding it.
    expect(readDataDirLock(dir)).toEqual({ pid: holder.child.pid, alive: false });
    const lock = acquireDataDirLock(dir);
    expect(lock.takenOverFrom).toBe(holder.child.pid);
    expect(readDataDirLock(dir)).toEqual({ pid: process.pid, alive: true });
    lock.release();
  });

  it('names the holder from the kernel even when its gateway.pid is gone', async () => {
    const dir = tempDir();
    const holder = await holdInChild(dir);
    writeFileSync(join(dir, PID_FILE), '1\n');
    expect(readDataDirLock(dir)).toEqual({ pid: holder.child.pid, alive: true });
    holder.child.kill('SIGTERM');
    expect(await holder.exited).toBe(0);
    // A clean release forgets the holder (gateway.pid no longer names it, so it is left alone).
    expect(readDataDirLock(dir)).toBeNull();
  });

  it('an empty lock file (a start that died before writing it) counts as free', () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), '');
    expect(readDataDirLock(dir)).toBeNull();
    const lock = acquireDataDirLock(dir);
    expect(lock.takenOverFrom).toBeUndefined();
    lock.release();
  });
});
