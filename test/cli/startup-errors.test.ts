import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PID_FILE, readDataDirLock } from '../../src/lifecycle/index.ts';
import { BIN, cliProcess, startGatewayProcess, type GatewayProcess } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';

const KNOWN_PROFILES = 'generic-27005, huawei-e3372, huawei-me909s, quectel-ec25, sierra-em74xx, simcom-sim7600, telit-le910';

/** The lines an operator reads: stderr without the JSON log lines. */
function said(stderr: string): string[] {
  // Also without bin.js's notice that it runs the sources because dist/src is stale (a build matter).
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{') && !l.includes('running the TypeScript sources through tsx'));
}

// Each test starts a real gateway process (tsx compile, store, workers): slow on a busy machine.
describe('agentphone start: start-up failures say why (real processes)', { timeout: 60_000 }, () => {
  const tempDir = useTempDir();

  function configFile(dir: string, yaml: string): string {
    const file = join(dir, 'agentphone.yaml');
    writeFileSync(file, yaml);
    return file;
  }

  it('an unknown profile is a config error naming the known profiles, reported with the other problems', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const file = configFile(dir, ['server:', '  port: 99999', 'modems:', '  - id: sim-a', '    port: /dev/ttyUSB2', '    profile: quectel-ec52', ''].join('\n'));
    const res = await cliProcess(['start', '--config', file], { AGENTPHONE_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(said(res.stderr)[0]).toBe('agentphone start: invalid configuration; fix these and start again:');
    expect(res.stderr).toContain(`modems[0].profile: unknown modem profile "quectel-ec52"; known: ${KNOWN_PROFILES}`);
    expect(res.stderr).toContain('server.port: must be <= 65535');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a modem line without a profile starts (its profile is detected once a modem answers)', async () => {
    const dir = tempDir();
    const port = await freePort();
    // No modem at that path: the line retries in the background; the gateway still serves.
    const file = configFile(dir, ['server:', '  host: 127.0.0.1', `  port: ${port}`, 'modems:', '  - id: sim-a', `    port: ${join(dir, 'no-such-tty')}`, ''].join('\n'));
    const server = await startGatewayProcess(['--config', file], { AGENTPHONE_DATA_DIR: join(dir, 'data'), AGENTPHONE_LOG_LEVEL: 'warn' });
    server.child.kill('SIGTERM');
    await server.exited;
    const { listening } = server;
    const stderr = server.stderr();
    // Before: the schema's default profile "generic" named no profile and start-up died with exit 13, silent.
    expect({ listening, stderr: said(stderr) }).toEqual({ listening: true, stderr: [`AgentPhone listening on http://127.0.0.1:${port} (data: ${join(dir, 'data')})`] });
  });

  it('a data directory that cannot be made: one line naming it and the setting, non-zero exit', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const noDir = await cliProcess(['start'], { AGENTPHONE_DATA_DIR: join(file, 'data'), AGENTPHONE_LOG_LEVEL: 'warn' });
    expect(noDir.code).toBe(1);
    expect(said(noDir.stderr)).toEqual([
      `agentphone start: cannot use ${join(file, 'data')} (ENOTDIR): check that the data directory ${join(file, 'data')} (dataDir, AGENTPHONE_DATA_DIR) exists or can be created, is writable by this user and has free space`,
    ]);
  });

  it('an address not on this machine: one line naming it and the setting, non-zero exit', async () => {
    const dir = tempDir();
    // 192.0.2.0/24 is TEST-NET-1: never a local address.
    const port = await freePort();
    const noAddress = await cliProcess(['start'], { AGENTPHONE_DATA_DIR: join(dir, 'data'), AGENTPHONE_HOST: '192.0.2.1', AGENTPHONE_PORT: String(port), AGENTPHONE_LOG_LEVEL: 'warn' });
    expect(noAddress.code).toBe(1);
    expect(said(noAddress.stderr)).toEqual([
      `agentphone start: cannot listen on 192.0.2.1:${port}: no interface of this machine has that address; set server.host (AGENTPHONE_HOST) to one of its addresses or 0.0.0.0`,
    ]);
  });

  it('a port already in use: one line naming the address and the setting, non-zero exit', async () => {
    const dir = tempDir();
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      const file = configFile(dir, ['server:', '  host: 127.0.0.1', `  port: ${port}`, ''].join('\n'));
      const res = await cliProcess(['start', '--config', file], { AGENTPHONE_DATA_DIR: join(dir, 'data'), AGENTPHONE_LOG_LEVEL: 'warn' });
      expect(res.code).toBe(1);
      expect(said(res.stderr)).toEqual([
        `agentphone start: cannot listen on 127.0.0.1:${port}: the port is already in use (another AgentPhone or another program); stop that or set server.port (AGENTPHONE_PORT) to a free port`,
      ]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('agentphone start: config problems are all reported together (real process)', { timeout: 60_000 }, () => {
  const tempDir = useTempDir();

  it('a file with a schema error, a bad value and a cross-field error lists all three', async () => {
    const dir = tempDir();
    const file = join(dir, 'agentphone.yaml');
    // Before: the cross-field check (numbers[].line) ran only when the schema had no problem, so two of three were listed.
    writeFileSync(file, ['server:', '  port: 99999', 'log:', '  level: loud', 'numbers:', '  - number: "+15550001"', '    line: nope', ''].join('\n'));
    const res = await cliProcess(['start', '--config', file], { AGENTPHONE_DATA_DIR: join(dir, 'data') });
    expect(res.code).toBe(1);
    expect(said(res.stderr)).toEqual([
      'agentphone start: invalid configuration; fix these and start again:',
      '  server.port: must be <= 65535',
      '  log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"',
      '  numbers[0].line: no modem or virtual line has id "nope"',
    ]);
  });
});

describe('agentphone start: one gateway per data directory (real processes)', { timeout: 120_000 }, () => {
  const tempDir = useTempDir();
  const running: GatewayProcess[] = [];
  afterEach(async () => {
    for (const g of running.splice(0)) {
      g.child.kill('SIGKILL');
      await g.exited;
    }
  });

  async function gateway(dataDir: string, port: number, extra: Record<string, string> = {}, command?: [string, ...string[]]): Promise<GatewayProcess> {
    const g = await startGatewayProcess([], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_HOST: '127.0.0.1', AGENTPHONE_PORT: String(port), AGENTPHONE_LOG_LEVEL: 'warn', ...extra }, command);
    running.push(g);
    return g;
  }

  it('a second gateway on the same data dir is refused naming the first one\'s pid; one on the same port is told the port is taken', async () => {
    const dataDir = join(tempDir(), 'data');
    const port = await freePort();
    const first = await gateway(dataDir, port);
    expect(first.listening).toBe(true);
    expect(readDataDirLock(dataDir)).toEqual({ pid: first.child.pid, alive: true });

    const sameDir = await cliProcess(['start'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_HOST: '127.0.0.1', AGENTPHONE_PORT: String(await freePort()), AGENTPHONE_LOG_LEVEL: 'warn' });
    expect(sameDir.code).toBe(1);
    expect(said(sameDir.stderr)).toEqual([
      `agentphone start: the data directory ${dataDir} is in use by another AgentPhone gateway (pid ${first.child.pid}); stop that gateway (kill ${first.child.pid}, or systemctl stop agentphone) or set dataDir (AGENTPHONE_DATA_DIR) to another directory`,
    ]);

    const otherDir = join(tempDir(), 'other');
    const samePort = await cliProcess(['start'], { AGENTPHONE_DATA_DIR: otherDir, AGENTPHONE_HOST: '127.0.0.1', AGENTPHONE_PORT: String(port), AGENTPHONE_LOG_LEVEL: 'warn' });
    expect(samePort.code).toBe(1);
    expect(said(samePort.stderr)).toEqual([
      `agentphone start: cannot listen on 127.0.0.1:${port}: the port is already in use (another AgentPhone or another program); stop that or set server.port (AGENTPHONE_PORT) to a free port`,
    ]);
    // Refused before opening a store (or a modem) it would not use.
    expect(existsSync(join(otherDir, 'agentphone.db'))).toBe(false);
    // The refused ones left the first gateway's lock alone.
    expect(readDataDirLock(dataDir)).toEqual({ pid: first.child.pid, alive: true });
  });

  it('a lock left by a gateway killed with -9 is taken over; SIGTERM then stops cleanly and frees the dir', async () => {
    const dataDir = join(tempDir(), 'data');
    const crashed = await gateway(dataDir, await freePort());
    expect(crashed.listening).toBe(true);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(readDataDirLock(dataDir)).toEqual({ pid: crashed.child.pid, alive: false });

    const next = await gateway(dataDir, await freePort());
    expect(next.listening).toBe(true);
    await until(() => next.stdout().includes(`"holderPid":${crashed.child.pid},"msg":"data directory was left locked by a gateway that died; taken over"`), 10_000, 'the take-over warning');
    expect(readDataDirLock(dataDir)).toEqual({ pid: next.child.pid, alive: true });

    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    expect(readDataDirLock(dataDir)).toBeNull();
    expect(existsSync(join(dataDir, PID_FILE))).toBe(false);
  });

  it('under npm (npm_lifecycle_event=start) the gateway stops when its parent shell is killed instead of running orphaned', async () => {
    const dataDir = join(tempDir(), 'data');
    // npm runs `sh -c "node src/cli/bin.js start"`; killing npm kills that shell, not node.
    // The trailing `exit` keeps sh from exec'ing node, as npm's shell does not either.
    const shell = await gateway(dataDir, await freePort(), { npm_lifecycle_event: 'start' }, ['sh', '-c', `"${process.execPath}" "${BIN}" "$@"; exit $?`, 'sh']);
    expect(shell.listening).toBe(true);
    const gatewayPid = readDataDirLock(dataDir)?.pid;
    expect(gatewayPid).not.toBe(shell.child.pid);
    try {
      shell.child.kill('SIGKILL');
      await shell.exited;
      // It notices within a second and stops cleanly: the lock is released and gateway.pid removed.
      await until(() => readDataDirLock(dataDir) === null, 30_000, 'the orphaned gateway to stop');
      expect(existsSync(join(dataDir, PID_FILE))).toBe(false);
    } finally {
      // Not our child: afterEach cannot reach it if the test failed.
      if (readDataDirLock(dataDir)?.alive === true && gatewayPid) process.kill(gatewayPid, 'SIGKILL');
    }
  });
});
