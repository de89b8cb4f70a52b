import { constants, accessSync, statSync } from 'node:fs';
import { readDataDirLock } from '../../lifecycle/index.ts';
import { PRIVATE_ENTRIES } from '../../core-store.ts';
import { looseModes } from '../../store/index.ts';
import { fail, ok, warn, type CheckResult, type DoctorCheck } from './check.ts';

/** The data dir exists, is a directory this user can write, and nobody else can read. */
export const dataDirCheck: DoctorCheck = async ({ config }) => {
  const dir = config.dataDir;
  const name = 'data dir';
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    return [warn(name, `${dir} does not exist yet: the first start creates it (0700)`)];
  }
  if (!isDir) return [fail(name, `${dir} is not a directory: set dataDir to a directory`)];
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return [fail(name, `${dir} is not writable by this user: chown it to the user that runs AgentPhone`)];
  }
  const loose = looseModes(dir, PRIVATE_ENTRIES);
  if (loose.length > 0) {
    return [warn(name, `${dir}: readable by others: ${loose.map((l) => `${l.path} is ${l.mode}, chmod ${l.wanted.slice(1)}`).join('; ')}`)];
  }
  return [ok(name, `${dir} exists, writable, private`)];
};

/** Whether a gateway holds the data dir (so modems are busy and restore is refused). */
export const lockCheck: DoctorCheck = async ({ config }) => [lockLine(config.dataDir)];

function lockLine(dataDir: string): CheckResult {
  const name = 'data dir lock';
  let info;
  try {
    info = readDataDirLock(dataDir);
  } catch (err) {
    return fail(name, `cannot read the lock: ${(err as Error).message}`);
  }
  if (info === null) return ok(name, 'free: no gateway is running on this data dir');
  if (info.alive) return ok(name, `held by a running gateway (pid ${info.pid ?? 'unknown'})`);
  return warn(name, `left by a gateway that died (pid ${info.pid ?? 'unknown'}); the next start takes it over`);
}
