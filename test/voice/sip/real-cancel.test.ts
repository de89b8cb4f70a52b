import { join } from 'node:path';
import { expect, it } from 'vitest';
import { audioSdp, sippRequest, writeScenario } from '../../helpers/sipp-scenarios.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { sippUnavailable, smallRtpRange, startSipGateway, startSipp, untilRtpPortsFree, useCleanup, useDrachtioServer } from '../helpers/real-sip.ts';

/*
 * The CANCEL race on a real drachtio-server: callers that CANCEL right after their INVITE. The
 * CANCEL reaches drachtio-server before the gateway's 200 can, so the server answers 487 itself;
 * the gateway learns it either from the CANCEL or from the refusal of its 200 (drachtio-srf
 * rejects with a bare string then). Every such call must be recorded canceled with 487.
 */

const CALLS = 20;
const tempDir = useTempDir('agentphone-real-cancel-');
const cleanup = useCleanup();

// CANCEL as soon as drachtio-server's 100 Trying arrives (RFC 3261 §9.1), long before the
// gateway can answer; it reuses the INVITE's branch, so both carry a fixed one per call.
const CANCELING_CALLER = (() => {
  const call = { user: '[service]', from: '15551234567', cseq: 1, branch: 'z9hG4bK-ap-[call_number]-[pid]' };
  return `${sippRequest('INVITE', { ...call, contact: 'caller', sdp: audioSdp({ owner: 'caller', dtmf: true }) })}  <recv response="100"/>
${sippRequest('CANCEL', call)}  <recv response="200"/>
  <recv response="487"/>
${sippRequest('ACK', { ...call, inDialog: true })}`;
})();

const missing = sippUnavailable();
describeWithTool('the CANCEL race on a real drachtio-server', missing === undefined, missing ?? '', () => {
  const server = useDrachtioServer();

  it(`${CALLS} callers that CANCEL at once: every call canceled with 487, a call.failed each, every RTP port free`, async () => {
    const dir = tempDir();
    const rtpPorts = smallRtpRange();
    const g = await startSipGateway({ server: server(), dataDir: join(dir, 'data'), rtpPorts });
    cleanup.push(() => g.stop());
    const callers = await startSipp(dir, writeScenario(dir, 'cancel', CANCELING_CALLER), [server().sip, '-s', g.number.phoneNumber.slice(1), '-m', String(CALLS), '-r', '10', '-l', '4']);
    const result = await callers.done;
    expect(result.code, result.stdout.slice(-2000) + result.stderr).toBe(0);
    const ended = async () => {
      const calls = await g.gw.voice.calls.list(g.number.id, { limit: 100 });
      return calls.length === CALLS && calls.every((c) => c.endedAt !== null) ? calls : undefined;
    };
    const calls = await until(ended, 10_000, 'every canceled call ended');
    const summary = calls.map((c) => `${c.status}/${c.endReason}/${c.sipStatus}`);
    expect(summary).toEqual(Array(CALLS).fill('canceled/caller_canceled/487'));
    await g.hooks.waitFor(() => g.hooks.events('call.failed').length === CALLS);
    for (const h of g.hooks.events('call.failed')) expect(h.json).toMatchObject({ reason: 'caller_canceled', sip_status: 487 });
    expect(g.hooks.events('call.answered')).toHaveLength(0);
    await untilRtpPortsFree(rtpPorts);
  });
});
