import { EventEmitter } from 'node:events';
import type { TimerClock, Timer } from '../../clock/index.ts';
import { decodeG711, encodeG711, G711_SILENCE, type G711Law } from '../audio/g711.ts';
import { LossConcealer } from '../audio/loss-concealer.ts';
import { DtmfReceiver, dtmfPackets, type DtmfDigitEvent } from './dtmf.ts';
import { JitterBuffer, type JitterBufferOptions, type JitterOutput, type JitterStats } from './jitter-buffer.ts';
import { decodeRtp, isRtcp } from './packet.ts';
import { Pacer } from './pacer.ts';
import { ReceiverStats } from './receiver-stats.ts';
import { RtpError } from './errors.ts';
import { decodeRtcp, encodeRtcp, toNtp, type RtcpReport } from './rtcp.ts';
import { RtpSender } from './rtp-sender.ts';
import type { RtpSockets } from './udp-port.ts';

export const FRAME_MS = 20;
export const SAMPLE_RATE_HZ = 8000;
export const FRAME_SAMPLES = (SAMPLE_RATE_HZ * FRAME_MS) / 1000;

export interface MediaCodec {
  law: G711Law;
  payloadType: number;
  /** telephone-event payload type, or null when the peer did not offer RFC 4733. */
  dtmfPayloadType: number | null;
}

export interface RemoteMedia {
  address: string;
  port: number;
  /** Defaults to port + 1. */
  rtcpPort?: number;
}

export interface MediaStreamOptions {
  clock: TimerClock;
  sockets: RtpSockets;
  remote: RemoteMedia;
  codec: MediaCodec;
  jitter?: JitterBufferOptions;
  /** Send silence frames between utterances (keeps NAT bindings and RTP timeouts happy). */
  sendSilence?: boolean;
  rtcpIntervalMs?: number;
  /** Wall clock for RTCP NTP timestamps. */
  wallClockMs?: () => number;
  /** Take the remote address from the first RTP packet received (symmetric RTP behind NAT). */
  latch?: boolean;
  /** Called with the clock time of every outgoing packet (benchmarks measure pacing with it). */
  onSend?: (atMs: number, marker: boolean) => void;
  /** Called for every datagram dropped as malformed (metrics count them by kind). */
  onDropped?: (kind: DroppedKind) => void;
}

/**
 * Why received media was dropped: a datagram that is not RTP, a bad RTCP compound, an
 * unreadable RFC 4733 event (or, in the media worker, digits past 10 a second); a socket error; or (media worker) caller frames the turn loop had
 * not taken yet when over a second more came (a flood must not queue without bound).
 */
export type DroppedKind = 'rtp' | 'rtcp' | 'dtmf' | 'socket' | 'overrun';

/** The most 20 ms packets sent back to back when the send timer fired late (500 ms of audio). */
export const MAX_CATCH_UP_FRAMES = 25;

export interface MediaStreamEvents {
  /**
   * One 20 ms frame of caller audio at 8 kHz, in sequence: the moment its packet arrives in
   * order; at its deadline (the jitter buffer's adaptive delay) when a packet is missing or
   * nothing comes (silence); every 20 ms before the first packet.
   */
  frame: [pcm: Int16Array];
  dtmf: [event: DtmfDigitEvent];
  /** Everything queued has been sent. */
  drained: [];
  rtcp: [report: RtcpReport];
  /**
   * Something inside this stream failed (a bug, not a bad datagram: those are dropped and
   * counted). The stream has closed itself; the call it belongs to must end.
   */
  fault: [err: Error];
}

export const DEFAULT_JITTER: JitterBufferOptions = { minDelayMs: 10, maxDelayMs: 200, maxDepth: 25 };

/**
 * One call's media: a UDP RTP/RTCP pair, the receive jitter buffer (reordering only: frames go up
 * the moment they are in sequence) with loss concealment, G.711 coding, RFC 4733 digits both
 * ways, and the outgoing stream on a fixed 20 ms grid of the monotonic clock (see Pacer): packet
 * n of the call is due at start + n × 20 ms and stamped with the timestamp of that instant, so
 * the stream keeps the wall clock's rate over the whole call and a late timer sends the packets
 * it owes at once instead of leaving a gap. A reply's first packet goes out as soon as it is
 * queued. Barge-in is `flush()`.
 *
 * Every handler a peer can reach is total: a datagram that does not decode is dropped and
 * reported through `onDropped`; anything else that throws closes this stream and emits `fault`,
 * never escaping into the event loop (where it would end the process and every other call).
 */
export class MediaStream extends EventEmitter<MediaStreamEvents> {
  private readonly sender = new RtpSender();
  private readonly jitter: JitterBuffer;
  private readonly concealer = new LossConcealer(FRAME_SAMPLES);
  private readonly dtmfIn: DtmfReceiver;
  private readonly pacer: Pacer;
  private readonly queue: Int16Array[] = [];
  private readonly dtmfOut: Array<{ payload: Uint8Array; marker: boolean; timestamp: number }> = [];
  private stats: ReceiverStats | undefined;
  private remote: RemoteMedia;
  private codec: MediaCodec;
  private talking = false;
  private held = false;
  private latched = false;
  private rtcpTimer: Timer | undefined;
  private rxTimer: Timer | undefined;
  private rxTimerAt = Infinity;
  private closed = false;
  private started = false;
  /** The last send slot that put a packet on the wire (-1: none yet). */
  private lastSentSlot = -1;
  /** Samples of queued audio sent so far (what the caller has heard). */
  playedSamples = 0;

  constructor(private readonly options: MediaStreamOptions) {
    super();
    this.remote = options.remote;
    this.codec = options.codec;
    this.jitter = new JitterBuffer(options.jitter ?? DEFAULT_JITTER);
    this.dtmfIn = new DtmfReceiver(SAMPLE_RATE_HZ);
    this.pacer = new Pacer(options.clock, { periodMs: FRAME_MS, maxCatchUp: MAX_CATCH_UP_FRAMES }, (slot) => this.guard(() => this.tick(slot)));
    const { rtp, rtcp } = options.sockets;
    rtp.on('message', (msg, rinfo) => this.guard(() => this.onDatagram(msg, rinfo.address, rinfo.port)));
    rtcp.on('message', (msg) => this.guard(() => this.onRtcp(msg)));
    // An unhandled 'error' on a dgram socket is thrown (a send to an unroutable address, say).
    rtp.on('error', () => this.options.onDropped?.('socket'));
    rtcp.on('error', () => this.options.onDropped?.('socket'));
  }

  /** Runs a handler the event loop calls; a throw ends this stream, not the process. */
  private guard(fn: () => void): void {
    if (this.closed) return;
    try {
      fn();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const listeners = this.listeners('fault');
      this.close();
      for (const l of listeners) {
        try {
          l(error);
        } catch {
          // a listener's own failure must not escape either
        }
      }
    }
  }

  get localPort(): number {
    return this.options.sockets.port;
  }

  get jitterStats(): Readonly<JitterStats> {
    return this.jitter.stats;
  }

  /** The receive jitter buffer's current adaptive delay (ms). */
  get jitterDelayMs(): number {
    return this.jitter.delayMs;
  }

  /** Times the send timer fired a period or more late and packets went out back to back. */
  get pacerCatchUps(): number {
    return this.pacer.catchUps;
  }

  /** Packets not sent because the send timer was more than MAX_CATCH_UP_FRAMES late. */
  get pacerSkipped(): number {
    return this.pacer.skipped;
  }

  get queuedMs(): number {
    return this.queue.length * FRAME_MS;
  }

  get receivedPackets(): number {
    return this.stats?.packetsReceived ?? 0;
  }

  get sentPackets(): number {
    return this.sender.packets;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.pacer.start();
    this.scheduleRtcp();
  }

  /**
   * Queues 8 kHz audio for playout (split into 20 ms frames, the last padded with silence). The
   * first frame of a talkspurt is sent at once rather than on the next tick.
   */
  play(pcm8k: Int16Array): void {
    const idle = this.queue.length === 0;
    for (let i = 0; i < pcm8k.length; i += FRAME_SAMPLES) {
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(pcm8k.subarray(i, Math.min(i + FRAME_SAMPLES, pcm8k.length)));
      this.queue.push(frame);
    }
    if (idle && this.queue.length > 0 && !this.talking && this.dtmfOut.length === 0 && this.started && !this.held && !this.closed) this.sendNow();
  }

  /**
   * Sends the first frame of a talkspurt now, in the next slot of the grid. When the last slot
   * sent nothing (silence suppressed), the grid moves earlier so that slot starts now: timestamps
   * move with it, so they still follow the clock. After a sent silence frame, whose time span the
   * new frame must not overlap, the grid stays and the frame goes up to one slot early (the marker
   * bit tells the far end to re-sync).
   */
  private sendNow(): void {
    const next = this.pacer.nextSlot;
    if (this.lastSentSlot < next - 1) {
      const aheadMs = this.pacer.dueAt(next) - this.options.clock.now();
      const samples = Math.round((Math.min(Math.max(aheadMs, 0), FRAME_MS) * SAMPLE_RATE_HZ) / 1000);
      this.pacer.shiftEarlier((samples * 1000) / SAMPLE_RATE_HZ);
      this.sender.shiftEarlier(samples);
    }
    this.sendSlot(this.pacer.takeNext());
  }

  /** The RTP timestamp of the first sample of send slot `slot`. */
  private slotTimestamp(slot: number): number {
    return this.sender.timestampAt(slot * FRAME_SAMPLES);
  }

  /** Barge-in: drops everything not yet sent; returns how many ms were dropped. */
  flush(): number {
    const dropped = this.queue.length * FRAME_MS;
    this.queue.length = 0;
    return dropped;
  }

  sendDtmf(digit: string, durationMs = 100): void {
    const timestamp = this.slotTimestamp(this.pacer.nextSlot);
    if (this.codec.dtmfPayloadType === null) return;
    for (const p of dtmfPackets(digit, durationMs)) this.dtmfOut.push({ ...p, timestamp });
  }

  /** A re-INVITE moved the far end or changed the codec; `hold` stops sending (sendonly/inactive). */
  update(remote: RemoteMedia, codec: MediaCodec, hold: boolean): void {
    if (remote.address !== this.remote.address || remote.port !== this.remote.port) this.jitter.reset();
    this.remote = remote;
    this.codec = codec;
    this.held = hold;
    this.latched = true; // the signalled address wins over what was latched
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacer.stop();
    this.rtcpTimer?.cancel();
    this.rxTimer?.cancel();
    this.options.sockets.rtp.close();
    this.options.sockets.rtcp.close();
    this.removeAllListeners();
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    if (this.closed) return;
    if (isRtcp(msg)) {
      this.onRtcp(msg);
      return;
    }
    let packet;
    try {
      packet = decodeRtp(msg);
    } catch (err) {
      if (!(err instanceof RtpError)) throw err;
      this.options.onDropped?.('rtp'); // not RTP: dropped, as a media port must
      return;
    }
    if (this.options.latch !== false && !this.latched) {
      this.latched = true;
      this.remote = { ...this.remote, address, port };
    }
    if (packet.payloadType === this.codec.dtmfPayloadType) {
      let digits;
      try {
        digits = this.dtmfIn.onPacket(packet.timestamp, packet.payload);
      } catch (err) {
        if (!(err instanceof RtpError)) throw err;
        this.options.onDropped?.('dtmf'); // a telephone-event too short to read
        return;
      }
      for (const digit of digits) this.emit('dtmf', digit);
      return;
    }
    if (packet.payloadType !== this.codec.payloadType) return; // comfort noise, other codecs
    this.stats ??= new ReceiverStats(packet.ssrc, SAMPLE_RATE_HZ);
    const now = this.options.clock.now();
    this.stats.onPacket(packet.sequence, packet.timestamp, now);
    this.emitFrames(this.jitter.push(packet.sequence, packet.timestamp, packet.payload, now));
    this.scheduleReceive();
  }

  private emitFrames(out: JitterOutput[]): void {
    for (const f of out) {
      if (this.closed) return;
      const pcm = f.kind === 'idle' ? new Int16Array(FRAME_SAMPLES) : this.concealer.frame(f.kind === 'audio' ? decodeG711(this.codec.law, f.payload) : null);
      this.emit('frame', pcm);
    }
  }

  /** One timer at the jitter buffer's next deadline (kept when an earlier one is already set). */
  private scheduleReceive(): void {
    if (this.closed) return;
    const at = this.jitter.nextDeadline();
    if (at === undefined || (this.rxTimer && this.rxTimerAt <= at)) return;
    this.rxTimer?.cancel();
    this.rxTimerAt = at;
    const clock = this.options.clock;
    this.rxTimer = clock.setTimeout(
      () =>
        this.guard(() => {
          this.rxTimer = undefined;
          this.rxTimerAt = Infinity;
          this.emitFrames(this.jitter.due(clock.now()));
          this.scheduleReceive();
        }),
      Math.ceil(at - clock.now()),
    );
  }

  private onRtcp(msg: Buffer): void {
    let reports: RtcpReport[];
    try {
      reports = decodeRtcp(msg);
    } catch (err) {
      if (!(err instanceof RtpError)) throw err;
      this.options.onDropped?.('rtcp');
      return;
    }
    for (const r of reports) {
      if (r.type === 'sr' && this.stats && r.ssrc === this.stats.ssrc) this.stats.onSenderReport(r.ntpSeconds, r.ntpFraction, this.options.clock.now());
      this.emit('rtcp', r);
    }
  }

  private tick(slot: number): void {
    // Before the caller's first packet there is no receive timeline: the send clock stands in.
    if (!this.jitter.started) this.emit('frame', new Int16Array(FRAME_SAMPLES));
    if (this.closed) return;
    this.sendSlot(slot);
  }

  /** What slot `slot` carries: a queued digit, else queued audio, else silence (unless suppressed). */
  private sendSlot(slot: number): void {
    const dtmf = this.dtmfOut.shift();
    if (dtmf && this.codec.dtmfPayloadType !== null) {
      this.send(slot, this.codec.dtmfPayloadType, dtmf.payload, dtmf.timestamp, dtmf.marker);
      return;
    }
    const next = this.queue.shift();
    if (next) {
      const marker = !this.talking;
      this.talking = true;
      this.playedSamples += next.length;
      this.send(slot, this.codec.payloadType, encodeG711(this.codec.law, next), this.slotTimestamp(slot), marker);
      if (this.queue.length === 0) this.emit('drained');
      return;
    }
    this.talking = false;
    if (this.options.sendSilence === false) return;
    this.send(slot, this.codec.payloadType, new Uint8Array(FRAME_SAMPLES).fill(G711_SILENCE[this.codec.law]), this.slotTimestamp(slot), false);
  }

  private send(slot: number, payloadType: number, payload: Uint8Array, timestamp: number, marker: boolean): void {
    if (this.held) return;
    const packet = this.sender.packet(payloadType, payload, timestamp, marker);
    this.lastSentSlot = slot;
    this.options.onSend?.(this.options.clock.now(), marker);
    this.options.sockets.rtp.send(packet, this.remote.port, this.remote.address);
  }

  /** The RTP timestamp of this instant (what an RTCP sender report pairs with its NTP time). */
  private timestampNow(): number {
    if (!this.started) return this.sender.timestampAt(0);
    const samples = Math.round(((this.options.clock.now() - this.pacer.dueAt(0)) * SAMPLE_RATE_HZ) / 1000);
    return this.sender.timestampAt(samples);
  }

  private scheduleRtcp(): void {
    const interval = this.options.rtcpIntervalMs ?? 5000;
    this.rtcpTimer = this.options.clock.setTimeout(
      () =>
        this.guard(() => {
          this.sendRtcp();
          this.scheduleRtcp();
        }),
      interval,
    );
  }

  /** A sender report when we have sent media, else a receiver report (RFC 3550 §6.4). */
  sendRtcp(): void {
    const reports = this.stats ? [this.stats.reportBlock(this.options.clock.now())] : [];
    const ntp = toNtp((this.options.wallClockMs ?? Date.now)());
    const packet = encodeRtcp(
      this.sender.packets > 0
        ? {
            type: 'sr',
            ssrc: this.sender.ssrc,
            ntpSeconds: ntp.seconds,
            ntpFraction: ntp.fraction,
            rtpTimestamp: this.timestampNow(),
            packetCount: this.sender.packets,
            octetCount: this.sender.octets,
            reports,
          }
        : { type: 'rr', ssrc: this.sender.ssrc, reports },
    );
    this.options.sockets.rtcp.send(packet, this.remote.rtcpPort ?? this.remote.port + 1, this.remote.address);
  }
}
