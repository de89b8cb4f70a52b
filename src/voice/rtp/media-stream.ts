import { EventEmitter } from 'node:events';
import type { TimerClock, Timer } from '../../clock/index.ts';
import { decodeG711, encodeG711, G711_SILENCE, type G711Law } from '../audio/g711.ts';
import { LossConcealer } from '../audio/loss-concealer.ts';
import { DtmfReceiver, dtmfPackets, type DtmfDigitEvent } from './dtmf.ts';
import { JitterBuffer, type JitterBufferOptions, type JitterOutput, type JitterStats } from './jitter-buffer.ts';
import { decodeRtp, isRtcp } from './packet.ts';
import { Pacer } from './pacer.ts';
import { ReceiverStats } from './receiver-stats.ts';
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
}

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
}

export const DEFAULT_JITTER: JitterBufferOptions = { minDelayMs: 10, maxDelayMs: 200, maxDepth: 25 };

/**
 * One call's media: a UDP RTP/RTCP pair, the receive jitter buffer (reordering only: frames go up
 * the moment they are in sequence) with loss concealment, G.711 coding, RFC 4733 digits both
 * ways, and the outgoing queue paced on a drift-corrected 20 ms clock. A reply's first packet
 * goes out as soon as it is queued, and the pacing restarts from it. Barge-in is `flush()`.
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
  /** When the last pacer tick ran, the RTP timestamp it stood for, and whether it sent a packet. */
  private tickAt = 0;
  private tickTs = 0;
  private tickSent = false;
  /** Samples of queued audio sent so far (what the caller has heard). */
  playedSamples = 0;

  constructor(private readonly options: MediaStreamOptions) {
    super();
    this.remote = options.remote;
    this.codec = options.codec;
    this.jitter = new JitterBuffer(options.jitter ?? DEFAULT_JITTER);
    this.dtmfIn = new DtmfReceiver(SAMPLE_RATE_HZ);
    this.pacer = new Pacer(options.clock, { periodMs: FRAME_MS, reanchorAfterMs: FRAME_MS / 2 }, () => this.tick());
    options.sockets.rtp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    options.sockets.rtcp.on('message', (msg) => this.onRtcp(msg));
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

  /** Times the send schedule was re-anchored after a late timer. */
  get pacerReanchors(): number {
    return this.pacer.reanchors;
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
    this.tickAt = this.options.clock.now();
    this.tickTs = this.sender.rtpTimestamp;
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
   * Sends the first frame of a talkspurt now and restarts the pacing from it. Its timestamp is
   * the sampling instant now, except right after a sent silence frame, whose time span it must
   * not overlap: then it is the next frame's (sent up to one frame early; the marker bit tells
   * the far end to re-sync).
   */
  private sendNow(): void {
    const now = this.options.clock.now();
    const elapsed = Math.max(0, Math.round(((now - this.tickAt) * SAMPLE_RATE_HZ) / 1000));
    if (!this.tickSent && elapsed < FRAME_SAMPLES) this.sender.retime((this.tickTs + elapsed) >>> 0);
    this.tickAt = now;
    this.tickTs = this.sender.rtpTimestamp;
    this.sendNext();
    this.tickSent = true;
    this.pacer.restart();
  }

  /** Barge-in: drops everything not yet sent; returns how many ms were dropped. */
  flush(): number {
    const dropped = this.queue.length * FRAME_MS;
    this.queue.length = 0;
    return dropped;
  }

  sendDtmf(digit: string, durationMs = 100): void {
    const timestamp = this.sender.rtpTimestamp;
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
    } catch {
      return; // not RTP: ignored, as a media port must
    }
    if (this.options.latch !== false && !this.latched) {
      this.latched = true;
      this.remote = { ...this.remote, address, port };
    }
    if (packet.payloadType === this.codec.dtmfPayloadType) {
      let digits;
      try {
        digits = this.dtmfIn.onPacket(packet.timestamp, packet.payload);
      } catch {
        return; // a telephone-event too short to read: ignored like any bad datagram (thrown here, it would end the process)
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
    this.rxTimer = clock.setTimeout(() => {
      this.rxTimer = undefined;
      this.rxTimerAt = Infinity;
      if (this.closed) return;
      this.emitFrames(this.jitter.due(clock.now()));
      this.scheduleReceive();
    }, Math.ceil(at - clock.now()));
  }

  private onRtcp(msg: Buffer): void {
    let reports: RtcpReport[];
    try {
      reports = decodeRtcp(msg);
    } catch {
      return;
    }
    for (const r of reports) {
      if (r.type === 'sr' && this.stats && r.ssrc === this.stats.ssrc) this.stats.onSenderReport(r.ntpSeconds, r.ntpFraction, this.options.clock.now());
      this.emit('rtcp', r);
    }
  }

  private tick(): void {
    if (this.closed) return;
    // Before the caller's first packet there is no receive timeline: the send clock stands in.
    if (!this.jitter.started) this.emit('frame', new Int16Array(FRAME_SAMPLES));
    if (this.closed) return;
    this.tickAt = this.options.clock.now();
    this.tickTs = this.sender.rtpTimestamp;
    const sentBefore = this.sender.packets;
    this.sendNext();
    this.tickSent = this.sender.packets !== sentBefore;
  }

  private sendNext(): void {
    const dtmf = this.dtmfOut.shift();
    if (dtmf && this.codec.dtmfPayloadType !== null) {
      this.send(this.sender.packet(this.codec.dtmfPayloadType, dtmf.payload, dtmf.timestamp, dtmf.marker), dtmf.marker);
      this.sender.advance(FRAME_SAMPLES);
      return;
    }
    const next = this.queue.shift();
    if (next) {
      const marker = !this.talking;
      this.talking = true;
      this.playedSamples += next.length;
      this.send(this.sender.media(this.codec.payloadType, encodeG711(this.codec.law, next), FRAME_SAMPLES, marker), marker);
      if (this.queue.length === 0) this.emit('drained');
      return;
    }
    this.talking = false;
    if (this.options.sendSilence === false || this.held) {
      this.sender.advance(FRAME_SAMPLES);
      return;
    }
    this.send(this.sender.media(this.codec.payloadType, new Uint8Array(FRAME_SAMPLES).fill(G711_SILENCE[this.codec.law]), FRAME_SAMPLES, false), false);
  }

  private send(packet: Buffer, marker: boolean): void {
    if (this.held) return;
    this.options.onSend?.(this.options.clock.now(), marker);
    this.options.sockets.rtp.send(packet, this.remote.port, this.remote.address);
  }

  private scheduleRtcp(): void {
    const interval = this.options.rtcpIntervalMs ?? 5000;
    this.rtcpTimer = this.options.clock.setTimeout(() => {
      if (this.closed) return;
      this.sendRtcp();
      this.scheduleRtcp();
    }, interval);
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
            rtpTimestamp: this.sender.rtpTimestamp,
            packetCount: this.sender.packets,
            octetCount: this.sender.octets,
            reports,
          }
        : { type: 'rr', ssrc: this.sender.ssrc, reports },
    );
    this.options.sockets.rtcp.send(packet, this.remote.rtcpPort ?? this.remote.port + 1, this.remote.address);
  }
}
