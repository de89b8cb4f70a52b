import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.ts';
import { CallerPolicy, dialledNumber, e164FromUri, parseSourceRule } from '../../../src/voice/index.ts';
import { FakeInference } from '../../fakes/voice.ts';
import { runPeer } from '../../helpers/sip-peers.ts';
import { callerScenario } from '../../helpers/sipp-scenarios.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { sippUnavailable, useCleanup, useDrachtioServer } from '../helpers/real-sip.ts';
import { metricsText } from '../../helpers/metrics.ts';

const trunk = (t: Record<string, unknown>) => validateConfig({ dataDir: '/tmp/unused', voice: { trunks: [t] } }).voice.trunks[0] as ReturnType<typeof validateConfig>['voice']['trunks'][number];

describe('dialled number and caller policy', () => {
  it('reads the user part of URIs and headers as E.164', () => {
    expect(e164FromUri('sip:+15550000001@gw.example.com;user=phone')).toBe('+15550000001');
    expect(e164FromUri('"Alice" <sip:15551234567@10.0.0.1:5060>;tag=abc')).toBe('+15551234567');
    expect(e164FromUri('tel:+44-20-7946-0018')).toBe('+442079460018');
    expect(e164FromUri('<sip:anonymous@anonymous.invalid>')).toBe('anonymous');
  });

  it('takes the number of a call to a registered contact from To, or from the trunk when configured', () => {
    const registered = trunk({ name: 'c', host: '192.0.2.10', register: true, username: '1001', password: 'pw' });
    expect(dialledNumber('sip:1001@198.51.100.1:5060', '<sip:+15550000001@carrier>', registered)).toBe('+15550000001');
    const withNumber = trunk({ name: 'c', host: '192.0.2.10', register: true, username: '1001', password: 'pw', number: '+15550000002' });
    expect(dialledNumber('sip:1001@198.51.100.1:5060', '<sip:+15550000001@carrier>', withNumber)).toBe('+15550000002');
    // An IP trunk addresses the number in the request URI.
    const ip = trunk({ name: 'c', host: '192.0.2.10' });
    expect(dialledNumber('sip:+15550000003@gw', '<sip:+15550000001@carrier>', ip)).toBe('+15550000003');
    expect(dialledNumber('sip:+15550000003@gw', '<sip:+15550000001@carrier>', registered)).toBe('+15550000003');
  });

  it('accepts INVITEs from trunk hosts, CIDRs, resolved names and registrars only; loopback alone with no trunk', async () => {
    const none = new CallerPolicy([]);
    expect(none.check('127.0.0.2')).toEqual({ allowed: true, trunk: undefined });
    expect(none.check('::1').allowed).toBe(true);
    expect(none.check('192.0.2.1').allowed).toBe(false);

    const ip = trunk({ name: 'ip', host: '192.0.2.10' });
    const ranged = trunk({ name: 'ranged', host: 'sip.carrier.test', allow: ['198.51.100.0/24', 'edge.carrier.test', '2001:db8::/32'] });
    const policy = new CallerPolicy([ip, ranged], async (name) => (name === 'edge.carrier.test' ? ['203.0.113.7'] : []));
    expect(policy.check('192.0.2.10')).toMatchObject({ allowed: true, trunk: { name: 'ip' } });
    expect(policy.check('192.0.2.11').allowed).toBe(false);
    expect(policy.check('198.51.100.77')).toMatchObject({ allowed: true, trunk: { name: 'ranged' } });
    expect(policy.check('2001:db8::5').allowed).toBe(true);
    expect(policy.check('203.0.113.7').allowed).toBe(false); // not resolved yet
    await policy.refresh();
    expect(policy.check('203.0.113.7')).toMatchObject({ allowed: true, trunk: { name: 'ranged' } });
    expect(policy.check('127.0.0.1').allowed).toBe(false); // trunks configured: loopback is no exception
    expect(policy.check('::ffff:192.0.2.10')).toMatchObject({ allowed: true, trunk: { name: 'ip' } });
    expect(policy.check(undefined).allowed).toBe(false);
    expect(policy.check('not-an-address').allowed).toBe(false);
    policy.learnRegistrar('ip', '192.0.2.99');
    expect(policy.check('192.0.2.99')).toMatchObject({ allowed: true, trunk: { name: 'ip' } });
  });

  it('parses allow entries and refuses malformed ones in the config', () => {
    expect(parseSourceRule('10.0.0.0/8')).toEqual({ kind: 'cidr', address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseSourceRule('sip.carrier.example')).toEqual({ kind: 'host', name: 'sip.carrier.example' });
    expect(parseSourceRule('10.0.0.0/33')).toBeUndefined();
    expect(() => validateConfig({ dataDir: '/tmp/unused', voice: { trunks: [{ name: 'c', host: 'h', allow: ['10.0.0.0/40'] }] } })).toThrow(/allow\[0\]/);
    expect(() => validateConfig({ dataDir: '/tmp/unused', voice: { trunks: [{ name: 'c', host: 'h', allow: ['a b'] }] } })).toThrow(/allow\/0|allow\[0\]/);
    expect(() => validateConfig({ dataDir: '/tmp/unused', voice: { trunks: [{ name: 'c', host: 'h', register: true }] } })).toThrow(/register needs username and password/);
  });
});

const tempDir = useTempDir('agentphone-routing-');
const cleanup = useCleanup();

const missing = sippUnavailable();
describeWithTool('routing and caller checks on a real drachtio-server', missing === undefined, missing ?? '', () => {
  const server = useDrachtioServer();

  async function gateway(trunks: unknown[]) {
    const gw = await startTestGateway(
      tempDir(),
      { voice: { drachtio: { host: server().host, port: server().port, secret: server().secret }, trunks, mediaAddress: '127.0.0.1', rtpBindHost: '127.0.0.1' } },
      undefined,
      { voice: { inference: new FakeInference() } },
    );
    cleanup.push(() => gw.stop());
    await until(() => gw.voice.manager?.signalingStatus().connected, 10_000, 'voice connected to drachtio');
    return gw;
  }

  const sipp = (scenario: string, bind: string) =>
    runPeer('sipp', ['-sf', scenario, server().sip, '-i', bind, '-p', '0', '-m', '1', '-timeout', '15s', '-nostdin', '-mp', '0']);

  it('routes a call to the registered contact (INVITE sip:1001@…) by its To header', async () => {
    // The registrar is absent (its REGISTER fails): routing depends on the configuration alone.
    const gw = await gateway([{ name: 'carrier', host: '127.0.0.1', port: 9, register: true, username: '1001', password: 'pw' }]);
    const number = gw.core.numbers.get(gw.numberA);
    const dir = tempDir();
    const res = await sipp(callerScenario(dir, { requestUser: '1001', toUser: number.phoneNumber, expect: 200 }), '127.0.0.1');
    expect(res.code, res.stdout + res.stderr).toBe(0);
    await until(async () => (await gw.voice.calls.list(number.id, { limit: 1 }))[0]?.status === 'completed', 10_000, 'call completed');
    expect((await gw.voice.calls.list(number.id, { limit: 1 }))[0]).toMatchObject({ direction: 'inbound', contact: '+15557770000', endReason: 'remote_hangup' });
  });

  it('answers 403 to an INVITE from a host that is no trunk, counts it, and answers the trunk host', async () => {
    const gw = await gateway([{ name: 'carrier', host: '127.0.0.1' }]);
    const number = gw.core.numbers.get(gw.numberA);
    const dir = tempDir();
    const stranger = await sipp(callerScenario(dir, { requestUser: number.phoneNumber, toUser: number.phoneNumber, expect: 403, name: 'stranger' }), '127.0.0.2');
    expect(stranger.code, stranger.stdout + stranger.stderr).toBe(0);
    expect(await gw.voice.calls.list(number.id, { limit: 10 })).toHaveLength(0);
    const metrics = await metricsText(gw.url);
    expect(metrics).toMatch(/^agentphone_sip_invites_refused_total\{reason="source_not_allowed"\} 1$/m);

    const carrier = await sipp(callerScenario(dir, { requestUser: number.phoneNumber, toUser: number.phoneNumber, expect: 200, name: 'carrier' }), '127.0.0.1');
    expect(carrier.code, carrier.stdout + carrier.stderr).toBe(0);
    await until(async () => (await gw.voice.calls.list(number.id, { limit: 1 }))[0]?.status === 'completed', 10_000, 'call completed');
  });
});
