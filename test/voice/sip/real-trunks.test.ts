import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig, type Config } from '../../../src/config/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { refreshDelayMs, TrunkRegistration } from '../../../src/voice/index.ts';
import type { RegisterResponse, SipRequester } from '../../../src/voice/sip/trunk-registration.ts';
import { FakeInference } from '../../fakes/voice.ts';
import { freePort } from '../../helpers/free-port.ts';
import { runPeer, startDrachtio } from '../../helpers/sip-peers.ts';
import { headerOf, receivedMessages, registrarScenario } from '../../helpers/sipp-scenarios.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { sippUnavailable, useCleanup, useDrachtioServer } from '../helpers/real-sip.ts';
import { metricsText } from '../../helpers/metrics.ts';

describe('registration refresh point', () => {
  it('refreshes at 80 % of a long expiry, 30 s before a middling one and at half of a short one', () => {
    expect(refreshDelayMs(3600)).toBe(2_880_000);
    expect(refreshDelayMs(120)).toBe(90_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(10)).toBe(5000);
    // A registrar may grant far less than asked: refresh well before that expiry, not 5 s after it.
    expect(refreshDelayMs(2)).toBe(1000);
  });
});

describe('trunk registration edge cases', () => {
  const trunk = validateConfig({ dataDir: '/tmp/unused', voice: { trunks: [{ name: 'c', host: '192.0.2.1', register: true, username: 'u', password: 'p', registerExpiresS: 60 }] } }).voice.trunks[0] as Config['voice']['trunks'][number];
  const response = (status: number, headers: Record<string, string>): RegisterResponse => ({ status, get: (name) => headers[name] });

  it('asks again with the Min-Expires of a 423, and keeps the Call-ID', () => {
    const sent: Array<Record<string, string>> = [];
    const answers = [response(423, { 'Min-Expires': '600', CSeq: '1 REGISTER' }), response(200, { Expires: '600', CSeq: '2 REGISTER' })];
    const requester: SipRequester = {
      request: (_uri, opts, callback) => {
        sent.push(opts.headers);
        const res = answers.shift() as RegisterResponse;
        callback(null, { on: (_event, fn) => fn(res) });
      },
    };
    const registration = new TrunkRegistration(trunk, requester, silentLogger(), () => undefined);
    registration.start();
    registration.pause();
    expect(sent.map((h) => [h.Expires, h.CSeq])).toEqual([['60', '1 REGISTER'], ['600', '2 REGISTER']]);
    expect(new Set(sent.map((h) => h['Call-ID'])).size).toBe(1);
  });

  it('records a failure when drachtio-srf throws instead of calling back (its socket is gone)', () => {
    const requester: SipRequester = {
      request: () => {
        throw new Error('provided socket has been destroyed');
      },
    };
    const registration = new TrunkRegistration(trunk, requester, silentLogger(), () => undefined);
    registration.start();
    registration.pause();
    expect(registration.status).toMatchObject({ state: 'registering' });
    registration.start();
    expect(registration.status).toMatchObject({ state: 'failed', lastError: 'provided socket has been destroyed' });
    registration.pause();
  });
});

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' };
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The digest response RFC 2617 (no qop) gives for a REGISTER's Authorization header. */
function digestValid(authorization: string, password: string): boolean {
  const p = Object.fromEntries([...authorization.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
  const ha1 = md5(`${p.username}:${p.realm}:${password}`);
  const ha2 = md5(`REGISTER:${p.uri}`);
  return p.response === md5(`${ha1}:${p.nonce}:${ha2}`);
}

const tempDir = useTempDir('agentphone-trunks-');
const cleanup = useCleanup();

const missing = sippUnavailable();
describeWithTool('trunks on a real drachtio-server', missing === undefined, missing ?? '', () => {
  const server = useDrachtioServer();

  it('registers with digest auth, refreshes before the granted expiry under one Call-ID with a rising CSeq, and shows it in /healthz and /metrics', async () => {
    const dir = tempDir();
    const registrarPort = await freePort();
    const messages = join(dir, 'registrar.log');
    // The registrar grants 2 s first (so the refresh comes within a second), then an hour.
    const registrar = runPeer(
      'sipp',
      ['-sf', registrarScenario(dir, 'carrier.test', [2, 3600]), '-i', '127.0.0.1', '-p', String(registrarPort), '-m', '1', '-timeout', '20s', '-nostdin', '-trace_msg', '-message_file', messages],
      { cwd: dir },
    );
    const gw = await startTestGateway(
      dir,
      {
        voice: {
          drachtio: { host: server().host, port: server().port, secret: server().secret },
          trunks: [{ name: 'carrier', host: '127.0.0.1', port: registrarPort, register: true, username: 'trunkuser', password: 's3cret-pw', registerExpiresS: 600 }],
          mediaAddress: '127.0.0.1',
          rtpBindHost: '127.0.0.1',
        },
      },
      undefined,
      { voice: { inference: new FakeInference() } },
    );
    cleanup.push(() => gw.stop());

    const done = await registrar;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const registers = receivedMessages(messages).filter((m) => m.startsWith('REGISTER '));
    expect(registers).toHaveLength(4); // challenged, authenticated; refresh challenged, authenticated
    const callIds = new Set(registers.map((m) => headerOf(m, 'Call-ID')));
    expect(callIds.size).toBe(1);
    const cseqs = registers.map((m) => Number.parseInt(headerOf(m, 'CSeq') ?? '', 10));
    expect(cseqs).toEqual([...cseqs].sort((a, b) => a - b));
    expect(new Set(cseqs).size).toBe(4);
    for (const authed of [registers[1], registers[3]]) {
      const authorization = headerOf(authed as string, 'Authorization') ?? '';
      expect(authorization).toMatch(/^Digest /);
      expect(digestValid(authorization, 's3cret-pw')).toBe(true);
    }
    expect(headerOf(registers[0] as string, 'Expires')).toBe('600');

    const status = await until(() => {
      const t = gw.voice.manager?.signalingStatus().trunks[0];
      return t?.state === 'registered' && Date.parse(t.expiresAt ?? '') > Date.now() + 3_000_000 && t;
    }, 10_000, 'registered for an hour');
    expect(status).toMatchObject({ name: 'carrier', kind: 'register', lastError: null });

    const health = (await (await fetch(`${gw.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', voice: { drachtio: 'connected', trunks: [{ name: 'carrier', kind: 'register', state: 'registered' }] } });
    const metrics = await metricsText(gw.url);
    expect(metrics).toMatch(/^agentphone_sip_connected 1$/m);
    expect(metrics).toMatch(/^agentphone_sip_trunk_state\{trunk="carrier",state="registered"\} 1$/m);
    expect(metrics).toMatch(/^agentphone_sip_trunk_state\{trunk="carrier",state="failed"\} 0$/m);
    // The dashboard's voice card reads the admin API, which has the expiry too.
    const admin = (await (await fetch(`${gw.url}/admin/voice/status`, { headers: ADMIN })).json()) as Record<string, unknown>;
    expect(admin).toMatchObject({ enabled: true, connected: true, trunks: [{ name: 'carrier', kind: 'register', state: 'registered', expiresAt: status.expiresAt, lastError: null }] });
    expect((await fetch(`${gw.url}/admin/voice/status`)).status).toBe(401);
  });

  it('reports the drachtio connection in /healthz and /metrics, and degraded once drachtio-server is gone', async () => {
    const own = await startDrachtio();
    cleanup.push(() => own.stop());
    const gw = await startTestGateway(
      tempDir(),
      {
        voice: {
          drachtio: { host: own.host, port: own.port, secret: own.secret },
          trunks: [{ name: 'ip-carrier', host: '127.0.0.1' }],
          mediaAddress: '127.0.0.1',
          rtpBindHost: '127.0.0.1',
        },
      },
      undefined,
      { voice: { inference: new FakeInference() } },
    );
    cleanup.push(() => gw.stop());
    await until(() => gw.voice.manager?.signalingStatus().connected, 10_000, 'voice connected to drachtio');

    const up = (await (await fetch(`${gw.url}/healthz`)).json()) as Record<string, unknown>;
    expect(up).toMatchObject({ status: 'ok', voice: { drachtio: 'connected', trunks: [{ name: 'ip-carrier', kind: 'ip', state: 'ip' }] } });
    expect(await metricsText(gw.url)).toMatch(/^agentphone_sip_connected 1$/m);

    await own.stop();
    const down = await until(async () => {
      const h = (await (await fetch(`${gw.url}/healthz`)).json()) as { status: string; voice?: { drachtio: string } };
      return h.voice?.drachtio === 'disconnected' && h;
    }, 10_000, '/healthz to see drachtio gone');
    expect(down).toMatchObject({ status: 'degraded', voice: { drachtio: 'disconnected', trunks: [{ name: 'ip-carrier', state: 'ip' }] } });
    const metrics = await metricsText(gw.url);
    expect(metrics).toMatch(/^agentphone_sip_connected 0$/m);
    expect(metrics).toMatch(/^agentphone_sip_trunk_state\{trunk="ip-carrier",state="ip"\} 1$/m);
    const admin = (await (await fetch(`${gw.url}/admin/voice/status`, { headers: ADMIN })).json()) as Record<string, unknown>;
    expect(admin).toMatchObject({ enabled: true, connected: false, trunks: [{ name: 'ip-carrier', kind: 'ip', state: 'ip' }] });
  });
});
