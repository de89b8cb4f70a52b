import { constants, accessSync, readFileSync, statSync } from 'node:fs';
import { AtChannel, openSerialTransport } from '../../modem/index.ts';
import { readDataDirLock } from '../../lifecycle/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { systemClock } from '../../clock/index.ts';
import { fail, ok, type CheckResult, type DoctorCheck } from './check.ts';

/** Each configured serial port exists and this user may open it (else: which group to join). */
export const serialPortsCheck: DoctorCheck = async ({ config }) => {
  if (config.modems.length === 0) return [ok('serial ports', 'no modems configured (virtual lines only)')];
  return config.modems.map((m) => (m.port === undefined ? ok(`port ${m.id}`, 'found by USB id at start (no fixed port)') : portLine(m.id, m.port)));
};

function portLine(id: string, path: string): CheckResult {
  const name = `port ${id}`;
  let gid: number;
  try {
    const st = statSync(path);
    if (!st.isCharacterDevice()) return fail(name, `${path} is not a character device: check modems[].port`);
    gid = st.gid;
  } catch {
    return fail(name, `${path} does not exist: is the modem plugged in? (ls /dev/serial/by-id)`);
  }
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return ok(name, `${path} readable and writable`);
  } catch {
    const member = process.getgroups?.().includes(gid) ?? false;
    const group = groupName(gid);
    return fail(
      name,
      member
        ? `${path}: no read/write permission although this user is in group ${group}: check the udev rule's MODE`
        : `${path}: no permission; add this user to group ${group} (sudo usermod -aG ${group} $USER, then log in again)`,
    );
  }
}

function groupName(gid: number): string {
  try {
    const line = readGroupFile().find((l) => l.split(':')[2] === String(gid));
    return line?.split(':')[0] ?? String(gid);
  } catch {
    return String(gid);
  }
}

function readGroupFile(): string[] {
  return readFileSync('/etc/group', 'utf8').split('\n');
}

/**
 * Each configured modem answers `AT` with OK. Skipped while a gateway holds the data dir: the
 * gateway has the ports open and a second writer would garble its exchange.
 */
export const modemAtCheck: DoctorCheck = async ({ config, timeoutMs }) => {
  const withPort = config.modems.filter((m) => m.port !== undefined);
  if (withPort.length === 0) return [];
  const lock = safeLock(config.dataDir);
  if (lock?.alive) return withPort.map((m) => ok(`modem ${m.id}`, `not probed: the running gateway (pid ${lock.pid ?? 'unknown'}) holds its port; see agentphone modems list`));
  const results: CheckResult[] = [];
  for (const m of withPort) results.push(await probeAt(m.id, m.port as string, timeoutMs));
  return results;
};

function safeLock(dataDir: string): ReturnType<typeof readDataDirLock> {
  try {
    return readDataDirLock(dataDir);
  } catch {
    return null;
  }
}

/** Opens `path`, sends AT, expects OK within `timeoutMs`. */
export async function probeAt(id: string, path: string, timeoutMs: number): Promise<CheckResult> {
  const name = `modem ${id}`;
  let transport;
  try {
    transport = await openSerialTransport(path);
  } catch (err) {
    return fail(name, `cannot open ${path}: ${(err as Error).message}`);
  }
  const channel = new AtChannel(transport, { clock: systemClock, logger: silentLogger(), defaultTimeoutMs: timeoutMs });
  try {
    await channel.command('AT', { timeoutMs });
    return ok(name, `${path} answers AT`);
  } catch (err) {
    return fail(name, `${path} does not answer AT (${(err as Error).message}): wrong port (try the other ttyUSB), or the modem is hung (power-cycle it)`);
  } finally {
    await channel.close();
  }
}
