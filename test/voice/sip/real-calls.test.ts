import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { answeringCallee, audioSdp, awaitByeAndConfirm, CALLEE_TAG, ringingCallee, ringThenCanceledCallee, sippRequest, sippResponse, writeScenario } from '../../helpers/sipp-scenarios.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { RtpPeer } from '../helpers/rtp-peer.ts';
import { sippUnavailable, smallRtpRange, startSipGateway, startSipp, untilRtpPortsFree, useCleanup, useDrachtioServer } from '../helpers/real-sip.ts';

/*
 * Outbound call control against a real drachtio-server, with sipp as the callee: hanging up a
 * ringing call sends CANCEL, a 200 that crosses the CANCEL is ACKed and BYE'd at once, an ended
 * call never changes again, and every path gives its RTP ports back.
 */

const CALLEE = '+15557654321';
const tempDir = useTempDir('agentphone-real-calls-');
const cleanup = useCleanup();

/**
 * The race: the CANCEL reaches a callee that answers anyway (its 200 crossed the CANCEL on the
 * wire). The gateway must ACK that 200 and end the dialog with BYE at once.
 */
const RING_CANCEL_CROSSES_200 = `${ringingCallee({ saveCSeq: true })}  <recv request="CANCEL" timeout="15000"/>
${sippResponse('200 OK', { toTag: CALLEE_TAG })}${sippResponse('200 OK', { toTag: CALLEE_TAG, cseq: 'CSeq: [$cseq] INVITE', contact: true, sdp: audioSdp({ owner: 'callee', sippAddresses: true, dtmf: true }) })}  <recv request="ACK" timeout="10000"/>
${awaitByeAndConfirm(10_000)}`;

/** A caller with a late offer: INVITE without SDP, our offer in the 200, its answer in the ACK. */
const lateOfferCaller = (number: string, mediaPort: number) => {
  const call = { user: number.slice(1), from: '15551234567', contact: 'caller', cseq: 1 };
  return `${sippRequest('INVITE', { ...call, retrans: true })}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
${sippRequest('ACK', { ...call, inDialog: true, sdp: audioSdp({ owner: 'caller', port: mediaPort, dtmf: true }) })}${awaitByeAndConfirm(15_000)}`;
};

const missing = sippUnavailable();
describeWithTool('outbound call control on a real drachtio-server', missing === undefined, missing ?? '', () => {
  const server = useDrachtioServer();

  async function ringingCall(scenarioXml: string) {
    const dir = tempDir();
    const sipp = await startSipp(dir, writeScenario(dir, 'callee', scenarioXml));
    const rtpPorts = smallRtpRange();
    const g = await startSipGateway({ server: server(), dataDir: join(dir, 'data'), rtpPorts, trunkPort: sipp.port });
    cleanup.push(() => g.stop());
    const res = await g.gw.api(`/api/numbers/${g.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: CALLEE }) });
    expect(res.status).toBe(200);
    const { callId } = (await res.json()) as { callId: string };
    await until(() => existsSync(join(dir, 'ringing.flag')), 10_000, 'the callee ringing');
    const hangup = () => g.gw.api(`/api/numbers/${g.number.id}/calls/${callId}/hangup`, { method: 'POST', body: '{}' });
    return { ...g, sipp, rtpPorts, callId, hangup };
  }

  it('hanging up a ringing call sends CANCEL; the call ends canceled/487 and its RTP ports are free again', async () => {
    const c = await ringingCall(ringThenCanceledCallee());
    expect(await (await c.hangup()).json()).toMatchObject({ status: 'canceled' });
    const peer = await c.sipp.done;
    expect(peer.code, `sipp did not see the CANCEL:\n${peer.stdout.slice(-2000)}${peer.stderr}`).toBe(0);
    expect(await c.gw.voice.calls.get(c.callId)).toMatchObject({ status: 'canceled', endReason: 'api_hangup', sipStatus: 487, answeredAt: null, billableMinutes: 0 });
    await c.hooks.waitFor(() => c.hooks.events('call.failed').length === 1);
    expect(c.hooks.events('call.failed')[0]?.json).toMatchObject({ call_id: c.callId, direction: 'outbound', reason: 'api_hangup', sip_status: 487 });
    expect(c.hooks.events('call.answered')).toHaveLength(0);
    await untilRtpPortsFree(c.rtpPorts);
  });

  it('a 200 that crosses the CANCEL is ACKed and BYE at once; the canceled record never goes back to ringing', async () => {
    const c = await ringingCall(RING_CANCEL_CROSSES_200);
    expect(await (await c.hangup()).json()).toMatchObject({ status: 'canceled' });
    const peer = await c.sipp.done;
    expect(peer.code, `sipp did not get ACK and BYE:\n${peer.stdout.slice(-2000)}${peer.stderr}`).toBe(0);
    const messages = readFileSync(c.sipp.messageFile, 'utf8');
    expect(messages).toMatch(/^CANCEL sip:/m);
    expect(messages).toMatch(/^BYE sip:/m);
    expect(await c.gw.voice.calls.get(c.callId)).toMatchObject({ status: 'canceled', endReason: 'api_hangup', sipStatus: 487, answeredAt: null, billableMinutes: 0 });
    await untilRtpPortsFree(c.rtpPorts);
    await c.hooks.waitFor(() => c.hooks.events('call.failed').length === 1);
    expect(c.hooks.events('call.answered')).toHaveLength(0);
    expect(c.hooks.events('call.completed')).toHaveLength(0);
  });

  it('an answered outbound call: bracketed To header, call.turn names caller and callee as the other call.* events do', async () => {
    const dir = tempDir();
    const peer = await RtpPeer.open();
    cleanup.push(async () => peer.close());
    // The gateway's RTP port is where its greeting comes from.
    peer.socket.once('message', (_m, rinfo) => peer.sendTo(rinfo.address, rinfo.port));
    const sipp = await startSipp(dir, writeScenario(dir, 'callee', answeringCallee(peer.port)));
    const rtpPorts = smallRtpRange();
    const g = await startSipGateway({ server: server(), dataDir: join(dir, 'data'), rtpPorts, trunkPort: sipp.port });
    cleanup.push(() => g.stop());
    g.hooks.answer = (h) => ({ status: 200, body: h.json.event === 'call.turn' ? { action: 'hangup' } : {} });
    const res = await g.gw.api(`/api/numbers/${g.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: CALLEE }) });
    const { callId } = (await res.json()) as { callId: string };
    await peer.until(() => peer.received.length > 0);
    await peer.digit('5');
    const result = await sipp.done;
    expect(result.code, result.stdout.slice(-2000) + result.stderr).toBe(0);
    const invite = readFileSync(sipp.messageFile, 'utf8').split(/^INVITE /m)[1] ?? '';
    expect(invite).toMatch(/^To: <sip:\+15557654321@127\.0\.0\.1>\r?$/m);
    expect(invite.startsWith(`sip:+15557654321@127.0.0.1:${sipp.port};transport=udp SIP/2.0`)).toBe(true);
    await g.hooks.waitFor(() => g.hooks.events('call.completed').length === 1);
    const pair = (e: string) => g.hooks.events(e).map((h) => ({ from: h.json.from, to: h.json.to }))[0];
    const expected = { from: g.number.phoneNumber, to: CALLEE };
    expect(pair('call.answered')).toEqual(expected);
    expect(pair('call.turn')).toEqual(expected);
    expect(pair('call.completed')).toEqual(expected);
    expect(g.hooks.events('call.turn')[0]?.json).toMatchObject({ call_id: callId, direction: 'outbound', dtmf: '5' });
    expect(await g.gw.voice.calls.get(callId)).toMatchObject({ status: 'completed', endReason: 'agent_hangup' });
    await untilRtpPortsFree(rtpPorts);
  });

  it('answers a late-offer INVITE (no SDP): offer in the 200, answer taken from the ACK, RTP flows', async () => {
    const dir = tempDir();
    const rtpPorts = smallRtpRange();
    const g = await startSipGateway({ server: server(), dataDir: join(dir, 'data'), rtpPorts });
    cleanup.push(() => g.stop());
    const peer = await RtpPeer.open();
    cleanup.push(async () => peer.close());
    peer.socket.once('message', (_m, rinfo) => peer.sendTo(rinfo.address, rinfo.port));
    g.hooks.answer = (h) => ({ status: 200, body: h.json.event === 'call.turn' ? { action: 'hangup' } : {} });
    const caller = await startSipp(dir, writeScenario(dir, 'caller', lateOfferCaller(g.number.phoneNumber, peer.port)), [server().sip]);
    // The greeting reaches the port the caller named in its ACK; a digit back reaches the agent.
    await peer.until(() => peer.received.filter((p) => p.payloadType === 0).length >= 10);
    await peer.digit('7');
    const result = await caller.done;
    expect(result.code, result.stdout.slice(-2000) + result.stderr).toBe(0);
    const ok = readFileSync(caller.messageFile, 'utf8').split(/^SIP\/2\.0 200 OK/m)[1] ?? '';
    expect(ok).toMatch(/^m=audio \d+ RTP\/AVP 0 8 101/m);
    await g.hooks.waitFor(() => g.hooks.events('call.completed').length === 1);
    expect(g.hooks.events('call.turn')[0]?.json).toMatchObject({ direction: 'inbound', dtmf: '7', to: g.number.phoneNumber });
    const [call] = await g.gw.voice.calls.list(g.number.id, { limit: 1 });
    expect(call).toMatchObject({ direction: 'inbound', status: 'completed', endReason: 'agent_hangup' });
    await untilRtpPortsFree(rtpPorts);
  });
});
