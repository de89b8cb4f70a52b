import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCTOR_CHECKS, fail, runChecks, type CheckResult, type DoctorCheck } from '../../src/cli/doctor/index.ts';
import { validateConfig } from '../../src/config/index.ts';
import { acquireDataDirLock, type DataDirLock } from '../../src/lifecycle/index.ts';
import { createVirtualNetwork, ptyAvailable, type VirtualNetwork } from '../../src/modem/index.ts';
import { cli } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const line = (results: readonly CheckResult[], name: string): CheckResult | undefined => results.find((r) => r.name === name);

function listen<S extends HttpServer | TcpServer>(server: S): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describeWithTool('agentphone doctor (real PTY modem, loopback drachtio and webhook servers)', ptyAvailable(), 'the native PTY addon', () => {
  const tempDir = useTempDir();
  let network: VirtualNetwork | undefined;
  let lock: DataDirLock | undefined;
  const servers: Array<HttpServer | TcpServer> = [];
  afterEach(async () => {
    lock?.release();
    lock = undefined;
    network?.close();
    network = undefined;
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function setup() {
    const zero = { minMs: 0, maxMs: 0 };
    network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero });
    const modem = network.addLine({ lineId: 'doc', number: '+15550003333', dialect: 'generic' });
    const drachtio = createTcpServer((socket) => socket.destroy());
    const hooks = createHttpServer((_req, res) => res.writeHead(405).end());
    servers.push(drachtio, hooks);
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const closedPort = await freePort();
    const config = validateConfig({
      dataDir,
      adminToken: 'test-admin-token-0123456789',
      modems: [{ id: 'm1', port: modem.path as string, profile: 'generic-27005' }, { id: 'gone', port: join(dataDir, 'no-such-tty') }],
      voice: { drachtio: { host: '127.0.0.1', port: await listen(drachtio), secret: 'cymru' } },
      numbers: [
        { line: 'm1', webhookUrl: `http://127.0.0.1:${await listen(hooks)}/hook?token=secret-token` },
        { line: 'gone', webhookUrl: `http://127.0.0.1:${closedPort}/down` },
      ],
    });
    return { config, dataDir, modemPath: modem.path as string };
  }

  it('reports each part on its own line: a live modem, a missing port, drachtio, a reachable and an unreachable webhook', async () => {
    const { config, modemPath } = await setup();
    const results = await runChecks(DOCTOR_CHECKS, { config, timeoutMs: 2000 });
    expect(line(results, 'data dir')).toMatchObject({ status: 'ok' });
    expect(line(results, 'data dir lock')).toMatchObject({ status: 'ok', detail: expect.stringContaining('free') });
    expect(line(results, 'port m1')).toMatchObject({ status: 'ok', detail: `${modemPath} readable and writable` });
    expect(line(results, 'port gone')).toMatchObject({ status: 'fail', detail: expect.stringContaining('does not exist') });
    expect(line(results, 'modem m1')).toMatchObject({ status: 'ok', detail: `${modemPath} answers AT` });
    expect(line(results, 'modem gone')).toMatchObject({ status: 'fail', detail: expect.stringContaining('cannot open') });
    expect(line(results, 'drachtio')).toMatchObject({ status: 'ok' });
    const hooks = results.filter((r) => r.name.startsWith('webhook '));
    expect(hooks).toHaveLength(2);
    const up = hooks.find((r) => r.name.endsWith('/hook'));
    expect(up).toMatchObject({ status: 'ok', detail: 'answers HTTP 405' });
    // The query string (a token) never appears in the report.
    expect(JSON.stringify(results)).not.toContain('secret-token');
    expect(hooks.find((r) => r.name.endsWith('/down'))).toMatchObject({ status: 'fail', detail: expect.stringContaining('ECONNREFUSED') });
    for (const name of ['onnxruntime', 'ffmpeg', 'sox']) expect(line(results, name)?.status).toMatch(/^(ok|warn)$/);
  });

  it('does not touch a modem while a gateway holds the data dir, and says so', async () => {
    const { config, dataDir } = await setup();
    lock = acquireDataDirLock(dataDir);
    const results = await runChecks(DOCTOR_CHECKS, { config, timeoutMs: 2000 });
    expect(line(results, 'data dir lock')).toMatchObject({ status: 'ok', detail: expect.stringContaining(`pid ${process.pid}`) });
    expect(line(results, 'modem m1')).toMatchObject({ status: 'ok', detail: expect.stringContaining('not probed: the running gateway') });
  });

  it('fails drachtio when nothing listens, and warns about a data dir others can read', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const config = validateConfig({ dataDir, voice: { drachtio: { host: '127.0.0.1', port: await freePort(), secret: 'cymru' } } });
    const results = await runChecks(DOCTOR_CHECKS, { config, timeoutMs: 2000 });
    expect(line(results, 'drachtio')).toMatchObject({ status: 'fail', detail: expect.stringContaining('ECONNREFUSED') });
    expect(line(results, 'data dir')).toMatchObject({ status: 'warn', detail: expect.stringContaining('0755, chmod 700') });
  });
});

describe('agentphone doctor (command)', () => {
  const tempDir = useTempDir();

  it('prints one line per check and exits 1 when one fails, 0 when none does', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const good = await cli(['doctor'], { AGENTPHONE_DATA_DIR: dataDir });
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    for (const text of good.stdout.trim().split('\n')) expect(text).toMatch(/^(ok {2}|warn|fail) {2}[^:]+: \S/);
    expect(good.stdout).toMatch(/^ok\s{4}data dir lock: free/m);

    const configFile = join(tempDir(), 'agentphone.yaml');
    writeFileSync(configFile, `dataDir: ${dataDir}\nvoice:\n  drachtio: { host: 127.0.0.1, port: ${await freePort()}, secret: cymru }\n`);
    const bad = await cli(['doctor', '--json', '--timeout', '1000', '--config', configFile], {});
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; checks: CheckResult[] };
    expect(report.ok).toBe(false);
    expect(line(report.checks, 'drachtio')?.status).toBe('fail');
  });

  it('runs added checks; a check that throws is a failed line, not a crash', async () => {
    const config = validateConfig({ dataDir: join(tempDir(), 'data') });
    const extra: DoctorCheck = async () => [fail('egress', 'blocked')];
    const broken: DoctorCheck = async function brokenCheck() {
      throw new Error('boom');
    };
    const results = await runChecks([extra, broken], { config, timeoutMs: 100 });
    expect(results).toEqual([
      { name: 'egress', status: 'fail', detail: 'blocked' },
      { name: 'brokenCheck', status: 'fail', detail: 'the check itself failed: boom' },
    ]);
  });
});
