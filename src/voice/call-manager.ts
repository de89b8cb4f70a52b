import { randomInt } from 'node:crypto';
import type { Clock } from '../clock/index.ts';
import { UnavailableError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { CallRecord, NumberRecord, VoiceSettingsRecord } from '../store/index.ts';
import type { HttpPost } from '../webhooks/index.ts';
import { ChatAgent } from './agents/chat-agent.ts';
import { WebhookAgent } from './agents/webhook-agent.ts';
import { resample } from './audio/resampler.ts';
import type { CallEnd, CallLog } from './call-log.ts';
import { recordOutboundCall, type CallControl, type OutboundCallInput } from './call-intake.ts';
import type { TimerClock } from '../clock/index.ts';
import { TTS_RATE_HZ, type CallAgent, type VoiceInference } from './ports.ts';
import type { JitterBufferOptions } from './rtp/jitter-buffer.ts';
import type { MediaMetrics } from './rtp/media-metrics.ts';
import type { CallMedia, MediaEngine, MediaPorts } from './rtp/media-engine.ts';
import { SAMPLE_RATE_HZ, type MediaCodec } from './rtp/media-stream.ts';
import { acceptAnswer, buildAnswer, buildOffer, describeAudio, negotiate, SdpError, type LocalMedia, type Negotiated } from './sdp/sdp.ts';
import { CallSession, type TurnLoopSettings } from './session/call-session.ts';
import { SignalingLostError, SipCallError, type IncomingCall, type SignalingStatus, type SipDialog, type SipSignaling } from './sip/signaling.ts';

export interface CallManagerSettings {
  /** Address written in our SDP (where the trunk sends RTP). */
  mediaAddress: string;
  jitter: JitterBufferOptions;
  turnLoop: TurnLoopSettings;
  greeting: string | null;
  systemPrompt: string | null;
  quotaMessage: string;
  maxCallMs: number;
  rtcpIntervalMs?: number;
}

export interface CallManagerDeps {
  signaling: SipSignaling;
  /** The number service; its lookups may answer now or later (it reads the store). */
  numbers: { getByPhone(phone: string): Promise<NumberRecord | undefined> | NumberRecord | undefined; get(id: string): Promise<NumberRecord> | NumberRecord };
  voiceSettings(numberId: string): Promise<VoiceSettingsRecord | undefined>;
  log: CallLog;
  inference: VoiceInference | null;
  post: HttpPost;
  clock: Clock;
  voiceClock: TimerClock;
  /** Where calls' RTP runs: the media worker thread (WorkerMediaEngine). */
  media: MediaEngine;
  settings: CallManagerSettings;
  logger: Logger;
  /** Chooses the agent (tests); by default the number's webhook, else the built-in chat model. */
  agentFor?: (number: NumberRecord, call: CallRecord) => CallAgent;
  /** Counts malformed datagrams and media faults. */
  mediaMetrics?: MediaMetrics;
  /** Refuses calls to contacts who opted out of the number (compliance); throws ContactOptedOutError. */
  optOuts?: { assertAllowed(number: NumberRecord, contact: string): Promise<void> };
  /** This node's id, written on the calls it places and answers (absent: none written). */
  nodeId?: string;
}

const CALLER_CANCELED: CallEnd = { status: 'canceled', reason: 'caller_canceled', sipStatus: 487 };

/** A rejection's text: drachtio-srf sometimes rejects with a bare string instead of an Error. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface LiveCall {
  record: CallRecord;
  number: NumberRecord;
  media?: CallMedia;
  session?: CallSession;
  dialog?: SipDialog;
  local?: LocalMedia;
  outbound?: AbortController;
  /** An inbound INVITE not answered yet (an API hangup declines it). */
  invite?: IncomingCall;
  maxTimer?: ReturnType<TimerClock['setTimeout']>;
  ending?: boolean;
  /** The call's turn and barge-in writes, in the order the session emitted them. */
  writes?: Promise<void>;
}

/** Inbound and outbound calls: signaling ↔ SDP ↔ RTP media ↔ the turn loop, with records and events. */
export class CallManager implements CallControl {
  private readonly live = new Map<string, LiveCall>();
  private readonly log: Logger;

  constructor(private readonly deps: CallManagerDeps) {
    this.log = deps.logger.child({ mod: 'voice' });
  }

  async start(): Promise<void> {
    this.deps.signaling.onInvite((call) => {
      this.onInvite(call).catch((err: unknown) => this.log.error({ err }, 'inbound call failed'));
    });
    await this.deps.signaling.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.live.values()].map((c) => this.hangupLive(c, { status: 'completed', reason: 'shutdown' })));
    await this.deps.signaling.stop();
    await this.deps.media.close();
  }

  /** The SIP server connection and each trunk's registration. */
  signalingStatus(): SignalingStatus {
    return this.deps.signaling.status();
  }

  get activeCalls(): number {
    return this.live.size;
  }

  /** The live session of a call (tests and the benchmark look at its turns). */
  session(callId: string): CallSession | undefined {
    return this.live.get(callId)?.session;
  }

  /** POST /calls: records the call as queued on this node and dials in the background. */
  async placeCall(number: NumberRecord, input: OutboundCallInput): Promise<CallRecord> {
    const record = await recordOutboundCall(this.deps, number, input, this.deps.nodeId ?? null, () => {
      if (!this.deps.inference) throw new UnavailableError('Voice calls need the speech models (VAD, Whisper, Orpheus), which are not installed');
    });
    this.dialOut(record, number);
    return record;
  }

  /** Whether this node can dial now: its SIP server connected and its speech models loaded. */
  canDial(): boolean {
    return this.deps.inference !== null && this.deps.signaling.status().connected;
  }

  /** Dials a queued call this node has claimed from the cluster's queue, in the background. */
  dialOut(record: CallRecord, number: NumberRecord): void {
    const live: LiveCall = { record, number, outbound: new AbortController() };
    this.live.set(record.id, live);
    this.dial(live).catch((err: unknown) => this.log.error({ err, call: record.id }, 'outbound call failed'));
  }

  /** Ends a call from the API; false when it is not live here. */
  async hangup(callId: string): Promise<boolean> {
    const live = this.live.get(callId);
    if (!live) return false;
    // Not answered yet: an outbound INVITE is canceled (487), an inbound one declined (603).
    const unanswered: CallEnd = { status: 'canceled', reason: 'api_hangup', sipStatus: live.outbound ? 487 : 603 };
    await this.hangupLive(live, live.dialog ? { status: 'completed', reason: 'api_hangup' } : unanswered);
    return true;
  }

  private async onInvite(invite: IncomingCall): Promise<void> {
    const number = await this.deps.numbers.getByPhone(invite.to);
    if (!number || number.status !== 'active') {
      this.log.info({ sipCallId: invite.sipCallId }, 'INVITE for a number we do not have: 404');
      await invite.reject(404, 'Not Found');
      return;
    }
    const record = await this.deps.log.create(number, { direction: 'inbound', contact: invite.from, sipCallId: invite.sipCallId, nodeId: this.deps.nodeId ?? null });
    const live: LiveCall = { record, number, invite };
    this.live.set(record.id, live);
    invite.onCancel(() => void this.finish(live, CALLER_CANCELED));
    // An INVITE without SDP is a late offer: our offer goes in the 200, the answer comes in the ACK.
    const lateOffer = invite.offer.trim() === '';
    let negotiated: Negotiated | undefined;
    if (!lateOffer) {
      try {
        negotiated = negotiate(describeAudio(invite.offer));
      } catch (err) {
        const status = err instanceof SdpError ? 488 : 400;
        await invite.reject(status, 'Not Acceptable Here');
        await this.finish(live, { status: 'failed', reason: 'sdp_not_acceptable', sipStatus: status, errorMessage: messageOf(err) });
        return;
      }
    }
    if (!this.deps.inference) {
      await invite.reject(480, 'Temporarily Unavailable');
      await this.finish(live, { status: 'failed', reason: 'models_unavailable', sipStatus: 480 });
      return;
    }
    const refused = !(await this.deps.log.mayCall(number));
    let ports: MediaPorts;
    try {
      ports = await this.deps.media.allocate();
    } catch (err) {
      await invite.reject(503, 'Service Unavailable');
      await this.finish(live, { status: 'failed', reason: 'no_rtp_ports', sipStatus: 503, errorMessage: messageOf(err) });
      return;
    }
    if (live.ending) {
      ports.release();
      return;
    }
    const local: LocalMedia = { address: this.deps.settings.mediaAddress, port: ports.port, sessionId: randomInt(1, 2 ** 31), sessionVersion: 1 };
    live.local = local;
    let dialog: SipDialog;
    let answerSdp: string | undefined;
    try {
      if (negotiated) dialog = await invite.answer(buildAnswer(local, negotiated));
      else ({ dialog, answer: answerSdp } = await invite.answerWithOffer(buildOffer(local)));
    } catch (err) {
      ports.release();
      const canceled = err instanceof SipCallError && err.sipStatus === 487;
      await this.finish(live, canceled ? CALLER_CANCELED : { status: 'failed', reason: 'answer_failed', sipStatus: err instanceof SipCallError ? err.sipStatus : null, errorMessage: messageOf(err) });
      return;
    }
    live.invite = undefined;
    if (answerSdp !== undefined) {
      try {
        negotiated = acceptAnswer(describeAudio(answerSdp));
      } catch (err) {
        ports.release();
        await dialog.bye().catch(() => undefined);
        await this.finish(live, { status: 'failed', reason: 'sdp_not_acceptable', sipStatus: null, errorMessage: messageOf(err) });
        return;
      }
    }
    if (live.ending) {
      // Ended (API hangup, shutdown) while the 200 was on its way.
      ports.release();
      await dialog.bye().catch(() => undefined);
      return;
    }
    live.media = this.mediaFor(ports, negotiated as Negotiated);
    this.attachDialog(live, dialog);
    if (refused) {
      await this.refuse(live);
      return;
    }
    await this.begin(live, live.record.greeting ?? (await this.greetingFor(number)));
  }

  private async dial(live: LiveCall): Promise<void> {
    const signal = (live.outbound as AbortController).signal;
    let ports: MediaPorts | undefined;
    let dialog: SipDialog | undefined;
    try {
      ports = await this.deps.media.allocate();
      live.local = { address: this.deps.settings.mediaAddress, port: ports.port, sessionId: randomInt(1, 2 ** 31), sessionVersion: 1 };
      await this.deps.log.ringing(live.record.id, null);
      const placed = await this.deps.signaling.call({ from: live.number.phoneNumber, to: live.record.contact, offer: buildOffer(live.local), signal });
      dialog = placed.dialog;
      if (live.ending) {
        await dialog.bye().catch(() => undefined);
        return;
      }
      const n = acceptAnswer(describeAudio(placed.answer));
      live.media = this.mediaFor(ports, n);
      await this.deps.log.ringing(live.record.id, dialog.sipCallId);
      this.attachDialog(live, dialog);
      await this.begin(live, live.record.greeting ?? (await this.greetingFor(live.number)));
    } catch (err) {
      // An answer we cannot use (its SDP) still made a dialog: end it.
      if (dialog && !live.dialog) await dialog.bye().catch(() => undefined);
      if (signal.aborted) {
        await this.finish(live, { status: 'canceled', reason: 'api_hangup', sipStatus: 487 });
        return;
      }
      await this.finish(live, this.dialFailure(err));
    } finally {
      if (ports && !live.media) ports.release();
    }
  }

  private dialFailure(err: unknown): CallEnd {
    const errorMessage = messageOf(err);
    if (err instanceof SignalingLostError) return { status: 'failed', reason: 'signaling_lost', sipStatus: null, errorMessage };
    if (err instanceof SdpError) return { status: 'failed', reason: 'sdp_not_acceptable', sipStatus: null, errorMessage };
    const sipStatus = err instanceof SipCallError ? err.sipStatus : null;
    return { status: 'failed', reason: sipStatus ? `sip_${sipStatus}` : 'dial_failed', sipStatus, errorMessage };
  }

  private async greetingFor(number: NumberRecord): Promise<string | null> {
    return (await this.deps.voiceSettings(number.id))?.greeting ?? this.deps.settings.greeting;
  }

  private mediaFor(ports: MediaPorts, n: Negotiated): CallMedia {
    const codec: MediaCodec = { law: n.law, payloadType: n.payloadType, dtmfPayloadType: n.dtmfPayloadType };
    return ports.stream({
      remote: n.remote,
      codec,
      hold: n.hold,
      jitter: this.deps.settings.jitter,
      ...(this.deps.settings.rtcpIntervalMs !== undefined && { rtcpIntervalMs: this.deps.settings.rtcpIntervalMs }),
    });
  }

  private attachDialog(live: LiveCall, dialog: SipDialog): void {
    live.dialog = dialog;
    // A failure inside this call's media ends this call only (the stream has closed itself).
    live.media?.on('fault', (err) => {
      this.deps.mediaMetrics?.faults.inc();
      this.log.error({ err, call: live.record.id }, 'call media failed');
      void this.hangupLive(live, { status: 'failed', reason: 'media_fault', errorMessage: err.message });
    });
    dialog.onEnd((reason) => void this.finish(live, { status: 'completed', reason: reason === 'bye' ? 'remote_hangup' : 'signaling_lost' }));
    dialog.onReinvite((offer) => {
      const n = negotiate(describeAudio(offer));
      const local = live.local as LocalMedia;
      local.sessionVersion++;
      live.media?.update(n.remote, { law: n.law, payloadType: n.payloadType, dtmfPayloadType: n.dtmfPayloadType }, n.hold);
      return buildAnswer(local, n);
    });
  }

  private async begin(live: LiveCall, greeting: string | null): Promise<void> {
    if (live.ending || !(await this.deps.log.answered(live.number, live.record.id))) return;
    const settings = await this.deps.voiceSettings(live.number.id);
    // Ended (API hangup, BYE) while the answer was being written.
    if (live.ending) return;
    const media = live.media as CallMedia;
    const inference = this.deps.inference as VoiceInference;
    const session = new CallSession({
      media,
      inference,
      agent: this.deps.agentFor?.(live.number, live.record) ?? this.agentFor(live.number, settings),
      clock: this.deps.voiceClock,
      settings: { ...this.deps.settings.turnLoop, ...(settings?.voice && { voice: settings.voice }) },
      call: {
        callId: live.record.id,
        numberId: live.number.id,
        from: live.record.direction === 'inbound' ? live.record.contact : live.number.phoneNumber,
        to: live.record.direction === 'inbound' ? live.number.phoneNumber : live.record.contact,
        direction: live.record.direction,
        instructions: live.record.instructions,
      },
    });
    live.session = session;
    session.on('turn', (turn) => this.write(live, () => this.deps.log.turn(live.record.id, turn)));
    session.on('barge-in', (b) => this.write(live, () => this.deps.log.bargeIn(live.record.id, b.heardFraction)));
    session.on('hangup', () => void this.hangupLive(live, { status: 'completed', reason: 'agent_hangup' }));
    session.on('transfer', (to) => void this.transfer(live, to));
    session.on('error', (err) => this.log.warn({ err, call: live.record.id }, 'turn failed'));
    live.maxTimer = this.deps.voiceClock.setTimeout(() => void this.hangupLive(live, { status: 'completed', reason: 'max_duration' }), this.deps.settings.maxCallMs);
    media.start();
    await session.start(greeting);
  }

  /** Minutes are used up and overage is off: say so, then hang up. */
  private async refuse(live: LiveCall): Promise<void> {
    const media = live.media as CallMedia;
    media.start();
    const inference = this.deps.inference as VoiceInference;
    const abort = new AbortController();
    for await (const chunk of inference.speak(this.deps.settings.quotaMessage, this.deps.settings.turnLoop.voice, abort.signal)) {
      media.play(resample(chunk, TTS_RATE_HZ, SAMPLE_RATE_HZ));
    }
    if (media.queuedMs > 0) await new Promise<void>((resolve) => media.once('drained', resolve));
    await this.hangupLive(live, { status: 'refused', reason: 'quota_exceeded' });
  }

  private async transfer(live: LiveCall, to: string): Promise<void> {
    try {
      await live.dialog?.refer(to);
      await this.hangupLive(live, { status: 'completed', reason: 'transferred' });
    } catch (err) {
      this.log.warn({ err, call: live.record.id }, 'transfer (REFER) failed');
    }
  }

  private agentFor(number: NumberRecord, settings: VoiceSettingsRecord | undefined): CallAgent {
    if (number.webhookUrl) {
      return new WebhookAgent({ url: number.webhookUrl, secret: number.webhookSecret }, this.deps.post, this.deps.settings.turnLoop.agentDeadlineMs, () => this.deps.clock.now());
    }
    return new ChatAgent(this.deps.inference as VoiceInference, settings?.systemPrompt ?? this.deps.settings.systemPrompt);
  }

  /**
   * Stores a turn or barge-in in the background (the turn loop does not wait for the store),
   * each after the call's previous one: a barge-in marks the reply stored just before it, even
   * on PostgreSQL where two writes could otherwise take different connections.
   */
  private write(live: LiveCall, fn: () => Promise<void>): void {
    live.writes = (live.writes ?? Promise.resolve()).then(fn).catch((err: unknown) => this.log.error({ err, call: live.record.id }, 'storing a turn failed'));
  }

  private async hangupLive(live: LiveCall, end: CallEnd): Promise<void> {
    if (live.ending) return;
    if (live.dialog) await live.dialog.bye().catch((err: unknown) => this.log.warn({ err, call: live.record.id }, 'BYE failed'));
    else if (live.outbound) live.outbound.abort();
    else if (live.invite) await live.invite.reject(603, 'Decline').catch((err: unknown) => this.log.warn({ err, call: live.record.id }, 'declining the INVITE failed'));
    await this.finish(live, end);
  }

  private async finish(live: LiveCall, end: CallEnd): Promise<void> {
    if (live.ending) return;
    live.ending = true;
    live.maxTimer?.cancel();
    live.session?.stop();
    live.media?.close();
    live.outbound?.abort();
    this.live.delete(live.record.id);
    // The turns the call had are stored before it ends (a turn after the end is dropped).
    await live.writes;
    const ended = await this.deps.log.end(live.number, live.record.id, end);
    if (ended) this.log.info({ call: ended.id, status: ended.status, reason: end.reason, minutes: ended.billableMinutes }, 'call ended');
  }
}
