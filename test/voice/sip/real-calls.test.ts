import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { drachtioUnavailable, onPath, startDrachtio, type DrachtioServer } from '../../helpers/sip-peers.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { smallRtpRange, startSipGateway, startSipp, untilRtpPortsFree, writeScenario } from '../helpers/real-sip.ts';

/*
 * Outbound call control against a real drachtio-server, with sipp as the callee: hanging up a
 * ringing call sends CANCEL, a 200 that crosses the CANCEL is ACKed and BYE'd at once, an ended
 * call never changes again, and every path gives its RTP ports back.
 */

const CALLEE = '+15557654321';
const tempDir = useTempDir('agentphone-real-calls-');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

// The 180 is followed by a flag file so the test knows the callee is ringing.
const RINGING = `
  <recv request="INVITE"><action><ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cseq"/></action></recv>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
  <nop><action><exec command="touch ringing.flag"/></action></nop>`;

/** Rings; answers the CANCEL with 200 and the INVITE with 487. */
const RING_THEN_CANCELED = `${RINGING}
  <recv request="CANCEL" timeout="15000"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$cseq] INVITE
Content-Length: 0

]]></send>
  <recv request="ACK"/>`;

/**
 * The race: the CANCEL reaches a callee that answers anyway (its 200 crossed the CANCEL on the
 * wire). The gateway must ACK that 200 and end the dialog with BYE at once.
 */
const RING_CANCEL_CROSSES_200 = `${RINGING}
  <recv request="CANCEL" timeout="15000"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$cseq] INVITE
Contact: <sip:callee@[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=callee 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000

]]></send>
  <recv request="ACK" timeout="10000"/>
  <recv request="BYE" timeout="10000"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>`;

const missing = drachtioUnavailable() ?? (onPath('sipp') ? undefined : 'sipp (Debian sip-tester)');
describeWithTool('outbound call control on a real drachtio-server', missing === undefined, missing ?? '', () => {
  let server: DrachtioServer;
  beforeAll(async () => {
    server = await startDrachtio();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function ringingCall(scenarioXml: string) {
    const dir = tempDir();
    const sipp = await startSipp(dir, writeScenario(dir, 'callee', scenarioXml));
    const rtpPorts = smallRtpRange();
    const g = await startSipGateway({ server, dataDir: join(dir, 'data'), rtpPorts, trunkPort: sipp.port });
    cleanup.push(() => g.stop());
    const res = await g.gw.api(`/api/numbers/${g.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: CALLEE }) });
    expect(res.status).toBe(200);
    const { callId } = (await res.json()) as { callId: string };
    await until(() => existsSync(join(dir, 'ringing.flag')), 10_000, 'the callee ringing');
    const hangup = () => g.gw.api(`/api/numbers/${g.number.id}/calls/${callId}/hangup`, { method: 'POST', body: '{}' });
    return { ...g, sipp, rtpPorts, callId, hangup };
  }

  it('hanging up a ringing call sends CANCEL; the call ends canceled/487 and its RTP ports are free again', async () => {
    const c = await ringingCall(RING_THEN_CANCELED);
    expect(await (await c.hangup()).json()).toMatchObject({ status: 'canceled' });
    const peer = await c.sipp.done;
    expect(peer.code, `sipp did not see the CANCEL:\n${peer.stdout.slice(-2000)}${peer.stderr}`).toBe(0);
    expect(c.gw.voice.calls.get(c.callId)).toMatchObject({ status: 'canceled', endReason: 'api_hangup', sipStatus: 487, answeredAt: null, billableMinutes: 0 });
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
    expect(c.gw.voice.calls.get(c.callId)).toMatchObject({ status: 'canceled', endReason: 'api_hangup', sipStatus: 487, answeredAt: null, billableMinutes: 0 });
    await untilRtpPortsFree(c.rtpPorts);
    await c.hooks.waitFor(() => c.hooks.events('call.failed').length === 1);
    expect(c.hooks.events('call.answered')).toHaveLength(0);
    expect(c.hooks.events('call.completed')).toHaveLength(0);
  });
});
