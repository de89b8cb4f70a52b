import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliProcess } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const KNOWN_PROFILES = 'generic-27005, huawei-e3372, huawei-me909s, quectel-ec25, sierra-em74xx, simcom-sim7600, telit-le910';

/** The lines an operator reads: stderr without the JSON log lines. */
function said(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
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
    const server = spawn(process.execPath, [BIN, 'start', '--config', file], {
      env: { PATH: process.env.PATH, AGENTPHONE_DATA_DIR: join(dir, 'data'), AGENTPHONE_LOG_LEVEL: 'warn' },
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const listening = await new Promise<boolean>((resolve) => {
      server.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('AgentPhone listening on')) resolve(true);
      });
      void exited.then(() => resolve(false));
    });
    server.kill('SIGTERM');
    await exited;
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
