import { EventEmitter } from 'node:events';
import type { VoiceClock } from '../clock.ts';
import { decodeG711, encodeG711, G711_SILENCE, type G711Law } from '../audio/g711.ts';
import { LossConcealer } from '../audio/loss-concealer.ts';
import { DtmfReceiver, dtmfPackets, type DtmfDigitEvent } from './dtmf.ts';
import { JitterBuffer, type JitterBufferOptions, type JitterStats } from './jitter-buffer.ts';
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
  clock: VoiceClock;
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
  /** One 20 ms frame of caller audio at 8 kHz, every tick once started (silence when nothing came). */
  frame: [pcm: Int16Array];
  dtmf: [event: DtmfDigitEvent];
  /** Everything queued has been sent. */
  drained: [];
  rtcp: [report: RtcpReport];
}

/**
 * One call's media: a UDP RTP/RTCP pair, the receive jitter buffer with loss concealment, G.711
 * coding, RFC 4733 digits both ways, and the outgoing queue paced on a drift-corrected 20 ms
 * clock. Barge-in is `flush()`.
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
  private rtcpTimer: ReturnType<VoiceClock['setTimeout']> | undefined;
  private closed = false;
  /** Samples of queued audio sent so far (what the caller has heard). */
  playedSamples = 0;

  constructor(private readonly options: MediaStreamOptions) {
    super();
    this.remote = options.remote;
    this.codec = options.codec;
    this.jitter = new JitterBuffer(options.jitter ?? { targetDepth: 3, maxDepth: 25 });
    this.dtmfIn = new DtmfReceiver(SAMPLE_RATE_HZ);
    this.pacer = new Pacer(options.clock, { periodMs: FRAME_MS, maxLagMs: 200 }, () => this.tick());
    options.sockets.rtp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    options.sockets.rtcp.on('message', (msg) => this.onRtcp(msg));
  }

  get localPort(): number {
    return this.options.sockets.port;
  }

  get jitterStats(): Readonly<JitterStats> {
    return this.jitter.stats;
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
    this.pacer.start();
    this.scheduleRtcp();
  }

  /** Queues 8 kHz audio for playout (split into 20 ms frames, the last padded with silence). */
  play(pcm8k: Int16Array): void {
    for (let i = 0; i < pcm8k.length; i += FRAME_SAMPLES) {
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(pcm8k.subarray(i, Math.min(i + FRAME_SAMPLES, pcm8k.length)));
      this.queue.push(frame);
    }
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
      for (const digit of this.dtmfIn.onPacket(packet.timestamp, packet.payload)) this.emit('dtmf', digit);
      return;
    }
    if (packet.payloadType !== this.codec.payloadType) return; // comfort noise, other codecs
    this.stats ??= new ReceiverStats(packet.ssrc, SAMPLE_RATE_HZ);
    this.stats.onPacket(packet.sequence, packet.timestamp, this.options.clock.now());
    this.jitter.push(packet.sequence, packet.timestamp, packet.payload);
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
    const frame = this.jitter.pop();
    const pcm = frame ? this.concealer.frame(frame.payload && decodeG711(this.codec.law, frame.payload)) : new Int16Array(FRAME_SAMPLES);
    this.emit('frame', pcm);
    if (this.closed) return;
    this.sendNext();
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
