import { afterEach, describe, expect, it } from 'vitest';
import { buildOffer, describeAudio } from '../../src/voice/index.ts';
import { FakeInference } from '../fakes/voice.ts';
import { LoopbackSignaling } from '../fakes/sip-loopback.ts';
import { FAST_RETRY, startTestGateway } from '../helpers/test-gateway.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { RtpPeer } from '../voice/helpers/rtp-peer.ts';
import { call, connect, httpTransport } from './mcp-client.ts';

const tempDir = useTempDir('agentphone-mcp-calls-');
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const VOICE = { mediaAddress: '127.0.0.1', rtpBindHost: '127.0.0.1', rtpPorts: { min: 42_000, max: 42_999 }, endpointing: { silenceMs: 300, minSpeechMs: 60, prerollMs: 200 }, agentDeadlineMs: 3000 };

/**
 * place_call, get_call and hang_up through MCP against the same SIP fake the REST call tests
 * use (LoopbackSignaling: the SipSignaling port without a drachtio server) with real RTP on
 * loopback and the fake speech models (no Whisper/Orpheus weights here).
 */
describe('MCP voice tools', () => {
  it('places a call with instructions and a greeting, reads its status, hangs up, and reads the ended call', async () => {
    const signaling = new LoopbackSignaling();
    const inference = new FakeInference();
    const gw = await startTestGateway(tempDir(), { voice: VOICE }, FAST_RETRY, { voice: { signaling, inference, rtcpIntervalMs: 200 } });
    cleanup.push(() => gw.stop());
    const peer = await RtpPeer.open();
    cleanup.push(() => peer.close());
    const agent = await connect(httpTransport(gw.url, gw.key));
    cleanup.push(() => agent.close());

    const placed = await call<{ callId: string; status: string }>(agent, 'place_call', {
      number_id: gw.numberA,
      to: '+15557654321',
      greeting: 'Hi, this is your dentist.',
      instructions: 'Confirm the appointment on Friday.',
    });
    expect(placed).toMatchObject({ isError: false, json: { status: 'queued' } });
    const out = await signaling.nextOutbound();
    expect(out).toMatchObject({ from: gw.core.numbers.get(gw.numberA).phoneNumber, to: '+15557654321' });
    const offer = describeAudio(out.offer);
    peer.sendTo(offer.address, offer.port);
    const dialog = out.answer(buildOffer({ address: '127.0.0.1', port: peer.port, sessionId: 9, sessionVersion: 1 }).replace('RTP/AVP 0 8 101', 'RTP/AVP 0 101'));
    await until(() => inference.spoken.includes('Hi, this is your dentist.'), 5000, 'greeting spoken');
    expect((await gw.voice.calls.get(placed.json.callId))?.instructions).toBe('Confirm the appointment on Friday.');

    const live = await call<{ status: string; transcript: unknown[] }>(agent, 'get_call', { number_id: gw.numberA, call_id: placed.json.callId });
    expect(live).toMatchObject({ isError: false, json: { status: 'in-progress', direction: 'outbound', to: '+15557654321' } });
    expect(Array.isArray(live.json.transcript)).toBe(true);

    const ended = await call(agent, 'hang_up', { number_id: gw.numberA, call_id: placed.json.callId });
    expect(ended).toMatchObject({ isError: false, json: { status: 'completed', endReason: 'api_hangup' } });
    expect(dialog.byeSent).toBe(true);
    const after = await call(agent, 'get_call', { number_id: gw.numberA, call_id: placed.json.callId });
    expect(after.json).toMatchObject({ status: 'completed', billableMinutes: 1 });

    const unknown = await call(agent, 'get_call', { number_id: gw.numberA, call_id: 'call_nope' });
    expect(unknown).toMatchObject({ isError: true, json: { error: 'Not Found', message: 'Call call_nope not found' } });
  });

  it('answers place_call with 503 Unavailable when voice is not configured', async () => {
    const gw = await startTestGateway(tempDir());
    cleanup.push(() => gw.stop());
    const agent = await connect(httpTransport(gw.url, gw.key));
    cleanup.push(() => agent.close());
    const res = await call<{ message: string }>(agent, 'place_call', { number_id: gw.numberA, to: '+15557654321' });
    expect(res).toMatchObject({ isError: true, json: { error: 'Service Unavailable', code: 'UNAVAILABLE' } });
    expect(res.json.message).toMatch(/Voice is not configured/);
  });

  it('transcribe refuses media that is not on this gateway, names a missing id, and hands received audio to Whisper', async () => {
    const gw = await startTestGateway(tempDir());
    cleanup.push(() => gw.stop());
    const agent = await connect(httpTransport(gw.url, gw.key));
    cleanup.push(() => agent.close());
    const elsewhere = await call<{ message: string }>(agent, 'transcribe', { media: 'http://169.254.169.254/media/abc123' });
    expect(elsewhere).toMatchObject({ isError: true, json: { error: 'Bad Request' } });
    expect(elsewhere.json.message).toMatch(/only media stored on this gateway/);
    const missing = await call(agent, 'transcribe', { media: `${gw.url}/media/Nope1234` });
    expect(missing).toMatchObject({ isError: true, json: { error: 'Not Found', message: 'Media Nope1234 not found' } });

    // A voice note received by MMS is found by its URL and handed to the Whisper service, which
    // has no model installed here (no weights in the test environment) and says so.
    const sent = await fetch(`${gw.url}/admin/sim/mms`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557773001', to: gw.core.numbers.get(gw.numberA).phoneNumber, media: [{ name: 'note.amr', contentType: 'audio/amr', data: Buffer.from('#!AMR\n' + 'x'.repeat(64)).toString('base64') }] }),
    });
    expect(sent.status).toBe(202);
    const note = await until(async () => (await gw.core.messages.list(gw.numberA, { direction: 'inbound', contact: '+15557773001', limit: 1 })).find((m) => m.media.length > 0), 20_000, 'the MMS stored');
    const viaWhisper = await call<{ message: string }>(agent, 'transcribe', { media: note.media[0] });
    expect(viaWhisper).toMatchObject({ isError: true, json: { error: 'Service Unavailable', code: 'MODEL_NOT_INSTALLED' } });
    expect(viaWhisper.json.message).toMatch(/^model whisper-large-v3 is not installed/);
    const byId = await call(agent, 'transcribe', { media: (note.media[0] as string).split('/').pop() });
    expect(byId.json).toEqual(viaWhisper.json);
  });
});
