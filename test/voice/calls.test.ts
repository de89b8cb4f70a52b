import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { buildOffer, describeAudio } from '../../src/voice/index.ts';
import { FakeInference } from '../fakes/voice.ts';
import { LoopbackSignaling } from '../fakes/sip-loopback.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { FAST_RETRY } from '../helpers/test-gateway.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { tone } from './audio/signals.ts';
import { RtpPeer } from './helpers/rtp-peer.ts';

const tempDir = useTempDir('agentphone-calls-');
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const CALLER = '+15551234567';
const VOICE = {
  mediaAddress: '127.0.0.1',
  rtpBindHost: '127.0.0.1',
  rtpPorts: { min: 41_000, max: 41_999 },
  endpointing: { silenceMs: 300, minSpeechMs: 60, prerollMs: 200 },
  greeting: 'Welcome to the test line.',
  agentDeadlineMs: 3000,
};

async function setup(inference = new FakeInference(), voice: Record<string, unknown> = VOICE) {
  const signaling = new LoopbackSignaling();
  const gw = await startTestGateway(tempDir(), { voice }, FAST_RETRY, { voice: { signaling, inference, rtcpIntervalMs: 200 } });
  cleanup.push(() => gw.stop());
  const hooks = new WebhookReceiver();
  const url = await hooks.start();
  cleanup.push(() => hooks.stop());
  hooks.answer = (h) => (h.json.event === 'call.turn' ? { status: 200, body: { action: 'respond', reply: `I heard: ${String(h.json.transcript || h.json.dtmf)}` } } : { status: 200, body: { action: 'ignore' } });
  const number = await gw.core.numbers.setWebhook(gw.numberA, { url });
  const peer = await RtpPeer.open();
  cleanup.push(() => peer.close());
  return { gw, signaling, hooks, number, peer, inference, secret: number.webhookSecret };
}

/** Media packets that carry sound (not the silence frames sent between utterances). */
const voiced = (peer: RtpPeer) => peer.received.filter((p) => p.payloadType === 0 && p.payload.some((b) => b !== 0xff && b !== 0x7f)).length;

async function answerInbound(s: Awaited<ReturnType<typeof setup>>) {
  const offer = buildOffer({ address: '127.0.0.1', port: s.peer.port, sessionId: 1, sessionVersion: 1 });
  const attempt = s.signaling.invite(CALLER, s.number.phoneNumber, offer);
  const res = await attempt.result;
  expect(res.status).toBe(200);
  const answer = describeAudio(res.sdp as string);
  s.peer.sendTo(answer.address, answer.port);
  const [call] = await s.gw.voice.calls.list(s.number.id, { limit: 1 });
  return { res, answer, dialog: res.dialog as NonNullable<typeof res.dialog>, callId: call?.id as string };
}

describe('voice calls through the SipSignaling port with real RTP on loopback', () => {
  it('answers an inbound call, greets, takes a spoken turn to the signed call.turn webhook, speaks the reply, and meters the minute', async () => {
    const s = await setup();
    const { answer, dialog, callId } = await answerInbound(s);
    expect(answer).toMatchObject({ address: '127.0.0.1', dtmfPayloadType: 101, codecs: [{ name: 'PCMU' }, { name: 'telephone-event' }] });
    await until(() => s.inference.spoken[0] === 'Welcome to the test line.', 5000, 'greeting spoken');
    await s.peer.until(() => voiced(s.peer) >= 10); // the greeting (300 ms of TTS) arrives
    await until(() => s.gw.voice.manager?.session(callId)?.state === 'listening', 5000, 'greeting played');

    await s.peer.speak(tone(300, 8000, 8000 * 0.6, 6000));
    await s.hooks.waitFor(() => s.hooks.events('call.turn').length === 1);
    const turn = s.hooks.events('call.turn')[0] as (typeof s.hooks.received)[number];
    expect(Object.keys(turn.json)).toEqual(['event', 'call_id', 'direction', 'from', 'to', 'transcript', 'dtmf', 'history', 'instructions', 'timestamp', 'signature']);
    expect(turn.json).toMatchObject({ call_id: callId, direction: 'inbound', from: CALLER, to: s.number.phoneNumber, transcript: 'hello there', dtmf: null });
    expect(turn.json.history).toEqual([{ role: 'assistant', content: 'Welcome to the test line.' }]);
    expect(turn.headers['x-agentphone-signature']).toBe(createHmac('sha256', s.secret).update(turn.raw).digest('hex'));
    const { signature, ...unsigned } = turn.json;
    expect(signature).toBe(createHmac('sha256', s.secret).update(JSON.stringify(unsigned)).digest('hex'));
    await until(() => s.inference.spoken.includes('I heard: hello there'), 5000, 'reply spoken');
    // The utterance reached STT at 16 kHz: 600 ms of speech plus pre-roll and the silence wait.
    expect((s.inference.transcribed[0]?.length as number) / 16_000).toBeGreaterThan(0.6);

    const before = voiced(s.peer);
    await s.peer.until(() => voiced(s.peer) >= before + 10);
    dialog.remoteBye();
    await until(async () => (await s.gw.voice.calls.get(callId))?.status === 'completed', 5000, 'call completed');
    const view = (await (await s.gw.api(`/api/numbers/${s.number.id}/calls/${callId}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ id: callId, direction: 'inbound', from: CALLER, to: s.number.phoneNumber, status: 'completed', endReason: 'remote_hangup', billableMinutes: 1, turns: 1 });
    expect(view.transcript).toEqual([{ seq: 1, caller: 'hello there', dtmf: null, action: 'respond', agent: 'I heard: hello there', heardFraction: null, at: expect.any(String) }]);
    await s.hooks.waitFor(() => s.hooks.events('call.completed').length === 1);
    expect(s.hooks.events('call.inbound')).toHaveLength(1);
    expect(s.hooks.events('call.answered')).toHaveLength(1);
    expect(s.hooks.events('call.completed')[0]?.json).toMatchObject({ call_id: callId, billable_minutes: 1, end_reason: 'remote_hangup' });
    const usage = (await (await s.gw.api(`/api/numbers/${s.number.id}/usage`)).json()) as { voice: { used: number } };
    expect(usage.voice.used).toBe(1);
    const list = (await (await s.gw.api(`/api/numbers/${s.number.id}/calls`)).json()) as { calls: Array<{ id: string }> };
    expect(list.calls.map((c) => c.id)).toEqual([callId]);
  });

  it('rejects an INVITE for a number it does not have with 404, and one without G.711 with 488', async () => {
    const s = await setup();
    const offer = buildOffer({ address: '127.0.0.1', port: s.peer.port, sessionId: 1, sessionVersion: 1 });
    expect((await s.signaling.invite(CALLER, '+15559999999', offer).result).status).toBe(404);
    const g729 = offer.replace('RTP/AVP 0 8 101', 'RTP/AVP 18 101');
    expect((await s.signaling.invite(CALLER, s.number.phoneNumber, g729).result).status).toBe(488);
    await s.hooks.waitFor(() => s.hooks.events('call.failed').length === 1);
    expect(s.hooks.events('call.failed')[0]?.json).toMatchObject({ reason: 'sdp_not_acceptable', sip_status: 488 });
  });

  it('respects CANCEL before the answer: the call is canceled, not billed', async () => {
    const s = await setup();
    const offer = buildOffer({ address: '127.0.0.1', port: s.peer.port, sessionId: 1, sessionVersion: 1 });
    const attempt = s.signaling.invite(CALLER, s.number.phoneNumber, offer);
    attempt.cancel();
    expect((await attempt.result).status).toBe(487);
    // The CANCEL can come before the call's record is written (the store is async): wait for it.
    const call = await until(async () => (await s.gw.voice.calls.list(s.number.id, { limit: 1 }))[0], 5000, 'call record');
    await until(async () => (await s.gw.voice.calls.get(call.id))?.status === 'canceled', 5000, 'canceled');
    expect(await s.gw.voice.calls.get(call.id)).toMatchObject({ billableMinutes: 0, endReason: 'caller_canceled' });
    expect(s.gw.voice.manager?.activeCalls).toBe(0);
  });

  it('barge-in: the caller talking over the greeting stops it at once', async () => {
    const s = await setup(new FakeInference({ ttsChunks: () => 30 })); // a 3 s greeting
    const { callId } = await answerInbound(s);
    await s.peer.until(() => voiced(s.peer) >= 5);
    const session = s.gw.voice.manager?.session(callId);
    const bargeIns: Array<{ heardMs: number; droppedMs: number }> = [];
    session?.on('barge-in', (b) => bargeIns.push(b));
    await s.peer.speak(tone(300, 8000, 8000 * 0.3, 6000));
    await until(() => bargeIns.length === 1, 5000, 'barge-in');
    expect(bargeIns[0]?.droppedMs).toBeGreaterThan(1000);
    const heardPackets = voiced(s.peer);
    // After the flush, at most a packet or two already in flight; no more greeting.
    await new Promise<void>((resolve) => s.peer.socket.once('message', () => resolve()));
    expect(voiced(s.peer)).toBeLessThanOrEqual(heardPackets + 2);
    expect(bargeIns[0]?.heardMs).toBeLessThan(3000);
  });

  it('passes RFC 4733 digits to the agent as call.turn events', async () => {
    const s = await setup(new FakeInference(), { ...VOICE, greeting: null });
    await answerInbound(s);
    await s.peer.digit('5');
    await s.hooks.waitFor(() => s.hooks.events('call.turn').length === 1);
    expect(s.hooks.events('call.turn')[0]?.json).toMatchObject({ transcript: '', dtmf: '5' });
    await until(() => s.inference.spoken.includes('I heard: 5'), 5000, 'reply to the digit');
  });

  it('places an outbound call with the number as caller id, speaks its greeting, and hangs up from the API', async () => {
    const s = await setup();
    const res = await s.gw.api(`/api/numbers/${s.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: '+15557654321', greeting: 'Hi, this is your reminder.' }) });
    const body = (await res.json()) as { callId: string; status: string };
    expect(res.status).toBe(200);
    expect(Object.keys(body)).toEqual(['callId', 'status']);
    expect(body.status).toBe('queued');
    expect(body.callId).toMatch(/^call_/);
    const out = await s.signaling.nextOutbound();
    expect(out).toMatchObject({ from: s.number.phoneNumber, to: '+15557654321' });
    const offer = describeAudio(out.offer);
    expect(offer.codecs.map((c) => c.name)).toEqual(['PCMU', 'PCMA', 'telephone-event']);
    s.peer.sendTo(offer.address, offer.port);
    const dialog = out.answer(buildOffer({ address: '127.0.0.1', port: s.peer.port, sessionId: 9, sessionVersion: 1 }).replace('RTP/AVP 0 8 101', 'RTP/AVP 0 101'));
    await until(() => s.inference.spoken.includes('Hi, this is your reminder.'), 5000, 'greeting');
    await s.peer.until(() => voiced(s.peer) >= 5);
    const hangup = await s.gw.api(`/api/numbers/${s.number.id}/calls/${body.callId}/hangup`, { method: 'POST', body: '{}' });
    expect(await hangup.json()).toMatchObject({ status: 'completed' });
    expect(dialog.byeSent).toBe(true);
    const view = (await (await s.gw.api(`/api/numbers/${s.number.id}/calls/${body.callId}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ direction: 'outbound', from: s.number.phoneNumber, to: '+15557654321', endReason: 'api_hangup', billableMinutes: 1 });
  });

  it('an unanswered outbound call ends failed with the SIP status', async () => {
    const s = await setup();
    const res = await s.gw.api(`/api/numbers/${s.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: '+15557654321' }) });
    const { callId } = (await res.json()) as { callId: string };
    (await s.signaling.nextOutbound()).reject(486);
    await s.hooks.waitFor(() => s.hooks.events('call.failed').length === 1);
    expect(s.hooks.events('call.failed')[0]?.json).toMatchObject({ call_id: callId, direction: 'outbound', reason: 'sip_486', sip_status: 486 });
    expect(await s.gw.voice.calls.get(callId)).toMatchObject({ status: 'failed', billableMinutes: 0 });
  });

  it('with the minutes used up and overage off: POST /calls is 429 and an inbound caller hears the refusal', async () => {
    const s = await setup();
    await s.gw.core.ledger.recordVoiceMinutes(s.number.id, 300, Date.now());
    const res = await s.gw.api(`/api/numbers/${s.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: '+15557654321' }) });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: 'Quota Exceeded' });
    const { dialog, callId } = await answerInbound(s);
    await dialog.ended;
    await until(async () => (await s.gw.voice.calls.get(callId))?.status === 'refused', 5000, 'refused');
    expect(s.inference.spoken).toEqual([expect.stringContaining('used all of its calling minutes')]);
    expect(await s.gw.voice.calls.get(callId)).toMatchObject({ status: 'refused', endReason: 'quota_exceeded', billableMinutes: 0 });
    expect(voiced(s.peer)).toBeGreaterThan(5);
  });

  it('goes on hold on a sendonly re-INVITE (answers recvonly, stops sending) and resumes', async () => {
    const s = await setup(new FakeInference(), { ...VOICE, greeting: null });
    const { dialog } = await answerInbound(s);
    await s.peer.until(() => s.peer.received.length >= 3); // silence frames flowing
    const hold = dialog.reinvite(buildOffer({ address: '127.0.0.1', port: s.peer.port, sessionId: 1, sessionVersion: 2 }, 'sendonly'));
    expect(describeAudio(hold).direction).toBe('recvonly');
    expect(hold).toMatch(/o=agentphone \d+ 2 /);
    await new Promise<void>((resolve) => setTimeout(resolve, 100)); // let packets in flight land
    const held = s.peer.received.length;
    await s.peer.until(() => s.peer.rtcp.length > 0); // time passes (RTCP still flows)
    expect(s.peer.received.length).toBe(held);
    const resume = dialog.reinvite(buildOffer({ address: '127.0.0.1', port: s.peer.port, sessionId: 1, sessionVersion: 3 }));
    expect(describeAudio(resume).direction).toBe('sendrecv');
    await s.peer.until(() => s.peer.received.length > held + 2);
  });

  it("uses the number's own voice settings, and stores the share of a reply the caller heard before talking over it", async () => {
    const s = await setup(new FakeInference({ ttsChunks: (text) => (text.startsWith('I heard') ? 30 : 3) })); // 3 s replies
    const settings = await fetch(`${s.gw.url}/admin/numbers/${s.number.id}/voice`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ greeting: 'Thanks for calling Rosa.', voice: 'leah' }),
    });
    expect(settings.status).toBe(200);
    expect(await settings.json()).toEqual({ numberId: s.number.id, systemPrompt: null, greeting: 'Thanks for calling Rosa.', voice: 'leah' });
    const { callId } = await answerInbound(s);
    await until(() => s.inference.spoken[0] === 'Thanks for calling Rosa.', 5000, 'own greeting');
    await until(() => s.gw.voice.manager?.session(callId)?.state === 'listening', 5000, 'greeting played');
    await s.peer.speak(tone(300, 8000, 8000 * 0.5, 6000));
    await until(() => s.gw.voice.manager?.session(callId)?.state === 'speaking', 5000, 'reply playing');
    const before = voiced(s.peer);
    await s.peer.until(() => voiced(s.peer) >= before + 25); // half a second of the 3 s reply
    await s.peer.speak(tone(300, 8000, 8000 * 0.3, 6000));
    await until(async () => ((await s.gw.voice.calls.turns(callId))[0]?.heardFraction ?? null) !== null, 5000, 'barge-in stored');
    const view = (await (await s.gw.api(`/api/numbers/${s.number.id}/calls/${callId}`)).json()) as { transcript: Array<{ agent: string; heardFraction: number }> };
    expect(view.transcript[0]?.agent).toBe('I heard: hello there');
    expect(view.transcript[0]?.heardFraction).toBeGreaterThan(0.1);
    expect(view.transcript[0]?.heardFraction).toBeLessThan(0.6);
  });
});
