/**
 * Servers under benchmark as processes of their own, and the CPU each uses (from /proc, so a
 * node's CPU per message is its own, not the load generator's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Ends it: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node <args>` in the repository and waits for its "listening on" line. */
export function startServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /(?:listening on|AgentPhone listening on) (http:\/\/[\d.:]+)/.exec(err);
      if (m) resolve({ child, url: m[1]!, stop });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

const TICK_MS = 1000 / 100; // USER_HZ

/** [user+system, children's user+system] of one process, in ms; undefined once it is gone. */
function stat(pid: number): { self: number; children: number; ppid: number } | undefined {
  try {
    // Fields after the ")" closing the command name: state ppid … utime(12) stime(13) cutime(14) cstime(15).
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) * TICK_MS, children: (Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined;
  }
}

/** CPU ms one process has used so far. */
export function cpuMs(pid: number): number {
  return stat(pid)?.self ?? 0;
}

/**
 * CPU ms a server and its child processes have used (PostgreSQL's postmaster and its backends):
 * its own, its children's while they run, and what its exited children left it.
 */
export function treeCpuMs(pid: number): number {
  const root = stat(pid);
  if (!root) return 0;
  let total = root.self + root.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s?.ppid === pid) total += s.self;
  }
  return total;
}
