import { isMainThread } from 'node:worker_threads';

/** Resolves when `register`'s callback is called, or after `ms`, whichever comes first. */
export function waitOrTimeout(register: (resolve: () => void) => void, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    register(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Belt and braces for the data dir: whatever a library or a later change creates without an
 * explicit mode comes out 0700/0600 instead of world-readable. Explicit modes stay the
 * contract; the umask cannot be set from a worker thread, where this does nothing.
 */
export function restrictFileCreationMask(): void {
  if (isMainThread) process.umask(0o077);
}

export { acquireDataDirLock, readDataDirLock, DataDirLockedError, LOCK_FILE, PID_FILE, type DataDirLock, type DataDirLockInfo } from './data-lock.ts';
export { probeListen } from './port-probe.ts';
export { agentphoneVersion } from './version.ts';
export { SerialPass } from './serial-pass.ts';
