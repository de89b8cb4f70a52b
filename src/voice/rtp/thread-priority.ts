import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Sets the calling thread's nice value, and that thread's only: on Linux a thread id passed to
 * setpriority(2) names one thread. Lowering nice needs root or CAP_SYS_NICE; throws otherwise,
 * and where /proc/thread-self is missing (not Linux).
 */
export function setThreadNice(nice: number): void {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (!Number.isInteger(tid)) throw new Error('cannot tell this thread id from /proc/thread-self');
  setPriority(tid, nice);
}
