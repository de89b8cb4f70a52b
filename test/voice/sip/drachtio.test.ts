import { afterEach, describe, expect, it } from 'vitest';
import { e164FromUri, refreshDelayMs } from '../../../src/voice/index.ts';
import { FakeInference } from '../../fakes/voice.ts';
import { drachtioUnavailable, onPath, runPeer, startDrachtio } from '../../helpers/sip-peers.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';

describe('drachtio adapter helpers', () => {
  it('reads the dialled number from request URIs and headers as E.164', () => {
    expect(e164FromUri('sip:+15550000001@gw.example.com;user=phone')).toBe('+15550000001');
    expect(e164FromUri('"Alice" <sip:15551234567@10.0.0.1:5060>;tag=abc')).toBe('+15551234567');
    expect(e164FromUri('tel:+44-20-7946-0018')).toBe('+442079460018');
    expect(e164FromUri('<sip:anonymous@anonymous.invalid>')).toBe('anonymous');
  });

  it('refreshes a registration well before it expires', () => {
    expect(refreshDelayMs(3600)).toBe(2_880_000);
    expect(refreshDelayMs(120)).toBe(90_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(10)).toBe(5000);
  });
});

/*
 * The same call flow as test/voice/calls.test.ts against a real drachtio-server (started here on
 * free loopback ports, or an operator's own through AGENTPHONE_TEST_DRACHTIO=host:port:secret)
 * with a real SIP caller (Debian's sipp).
 */
const tempDir = useTempDir('agentphone-drachtio-');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const missing = drachtioUnavailable() ?? (onPath('sipp') ? undefined : 'sipp (Debian sip-tester)');
describeWithTool('against a real drachtio-server', missing === undefined, missing ?? '', () => {
  it('answers a sipp call to a known number, and refuses one to an unknown number with 404', async () => {
    const server = await startDrachtio();
    cleanup.push(() => server.stop());
    const gw = await startTestGateway(
      tempDir(),
      { voice: { drachtio: { host: server.host, port: server.port, secret: server.secret }, mediaAddress: '127.0.0.1', rtpBindHost: '127.0.0.1' } },
      undefined,
      { voice: { inference: new FakeInference() } },
    );
    cleanup.push(() => gw.stop());
    await until(() => gw.voice.manager?.signalingStatus().connected, 10_000, 'voice connected to drachtio');
    const number = gw.core.numbers.get(gw.numberA);
    const known = await runPeer('sipp', ['-sn', 'uac', '-s', number.phoneNumber.slice(1), server.sip, '-m', '1', '-d', '3000', '-timeout', '20s', '-nostdin', '-i', '127.0.0.1', '-p', '0']);
    expect(known.code, known.stdout + known.stderr).toBe(0);
    await until(async () => (await gw.voice.calls.list(number.id, { limit: 1 }))[0]?.status === 'completed', 10_000, 'call completed');
    expect((await gw.voice.calls.list(number.id, { limit: 1 }))[0]).toMatchObject({ direction: 'inbound', endReason: 'remote_hangup', billableMinutes: 1 });
    const unknown = await runPeer('sipp', ['-sn', 'uac', '-s', '15559999999', server.sip, '-m', '1', '-timeout', '10s', '-nostdin', '-i', '127.0.0.1', '-p', '0']);
    expect(unknown.code).not.toBe(0); // the uac scenario expects 200; a 404 fails it
  });
});
