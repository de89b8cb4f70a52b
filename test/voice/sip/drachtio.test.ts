import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { e164FromUri, refreshDelayMs } from '../../../src/voice/index.ts';
import { FakeInference } from '../../fakes/voice.ts';
import { hasCommand } from '../../helpers/system-tool.ts';
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
 * The same call flow as test/voice/calls.test.ts, against a real drachtio-server with a real SIP
 * caller (sipp), when AGENTPHONE_TEST_DRACHTIO=host:adminPort:secret points at one. The server's
 * SIP port is AGENTPHONE_TEST_DRACHTIO_SIP (default host:5060).
 */
const target = process.env.AGENTPHONE_TEST_DRACHTIO;
const needs = 'AGENTPHONE_TEST_DRACHTIO=host:port:secret (a drachtio-server admin port) and sipp (Debian sip-tester)';
const tempDir = useTempDir('agentphone-drachtio-');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

(target && hasCommand('sipp', ['-v']) ? describe : describe.skip)(`against a real drachtio-server${target ? '' : ` — skipped: needs ${needs}`}`, () => {
  it('answers a sipp call to a known number, and refuses one to an unknown number with 404', async () => {
    const [host, port, secret] = (target as string).split(':');
    const sip = process.env.AGENTPHONE_TEST_DRACHTIO_SIP ?? `${host}:5060`;
    const gw = await startTestGateway(
      tempDir(),
      { voice: { drachtio: { host, port: Number(port), secret }, mediaAddress: '127.0.0.1', rtpBindHost: '0.0.0.0' } },
      undefined,
      { voice: { inference: new FakeInference() } },
    );
    cleanup.push(() => gw.stop());
    await until(() => gw.voice.manager !== undefined, 5000, 'voice started');
    const number = gw.core.numbers.get(gw.numberA);
    const known = spawnSync('sipp', ['-sn', 'uac', '-s', number.phoneNumber.slice(1), sip, '-m', '1', '-d', '3000', '-timeout', '20s', '-nostdin'], { encoding: 'utf8' });
    expect(known.status).toBe(0);
    await until(() => gw.voice.calls.list(number.id, { limit: 1 })[0]?.status === 'completed', 10_000, 'call completed');
    expect(gw.voice.calls.list(number.id, { limit: 1 })[0]).toMatchObject({ direction: 'inbound', endReason: 'remote_hangup', billableMinutes: 1 });
    const unknown = spawnSync('sipp', ['-sn', 'uac', '-s', '15559999999', sip, '-m', '1', '-timeout', '10s', '-nostdin'], { encoding: 'utf8' });
    expect(unknown.status).not.toBe(0); // the uac scenario expects 200; a 404 fails it
  });
});
