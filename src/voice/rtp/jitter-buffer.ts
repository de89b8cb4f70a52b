import { seqDelta } from './packet.ts';

export interface JitterBufferOptions {
  /** Floor of the adaptive delay: how long past its expected arrival a missing frame is waited for. */
  minDelayMs: number;
  /** Ceiling of the adaptive delay. */
  maxDelayMs: number;
  /** Frames held at most behind a missing one; past it the missing one is given up at once. */
  maxDepth: number;
  /** RTP clock rate; 8000 for G.711. */
  clockRateHz?: number;
  /** Frame length before the stream shows its own (ptime). */
  frameMs?: number;
}

/** What the buffer releases, in sequence order. */
export type JitterOutput =
  | { kind: 'audio'; sequence: number; timestamp: number; payload: Uint8Array }
  /** A packet that never came although later ones did: the decoder conceals it. */
  | { kind: 'lost'; sequence: number; timestamp: number }
  /** Nothing came for this frame's time (the caller stopped sending, or silence suppression). */
  | { kind: 'idle'; timestamp: number };

export interface JitterStats {
  received: number;
  late: number;
  duplicate: number;
  concealed: number;
  /** Packets jumped over (a sequence jump larger than maxDepth). */
  skipped: number;
  idle: number;
}

interface Slot {
  timestamp: number;
  mediaMs: number;
  payload: Uint8Array;
}

/** Lateness samples kept for the delay estimate (2 s of 20 ms packets). */
const WINDOW = 100;
/** Lateness quantile the delay covers. */
const QUANTILE = 0.95;
/** The minimum-transit estimate creeps up this much per ms of media, to follow clock skew and route changes. */
const TRANSIT_CREEP = 0.001;
/** A packet this far off the timeline means the sender restarted its clock: the timeline is re-synced. */
const RESYNC_MS = 2000;
/**
 * Most idle frames one call releases (1 s of 20 ms frames). A timeline further behind than that
 * (a stalled process, or a peer's timestamps built to make it so) jumps to now: replaying it
 * frame by frame would hand millions of frames up at once.
 */
const MAX_IDLE_BURST = 50;
/** Frame lengths the buffer learns from consecutive packets (G.711 ptime is 10-120 ms in practice). */
const MIN_FRAME_MS = 10;
const MAX_FRAME_MS = 120;

/**
 * Receive jitter buffer that only reorders. A packet that is next in sequence is released the
 * moment it arrives, so nothing downstream (VAD, endpointing) waits on a playout schedule; a
 * missing packet is waited for until its expected arrival plus the adaptive delay, then given up
 * (concealed); when nothing is waiting at all, `idle` frames keep the timeline moving at the
 * same deadlines.
 *
 * Expected arrival is the packet's media time plus the minimum transit seen (arrival − media
 * time, slowly creeping up); the adaptive delay is the 95th percentile of recent lateness past
 * that minimum, clamped to [minDelayMs, maxDelayMs]. A loopback peer is never late, so the delay
 * settles at its floor, well under a frame.
 *
 * Pure: arrival times are arguments, and the owner calls `due(now)` at `nextDeadline()`.
 */
export class JitterBuffer {
  private readonly slots = new Map<number, Slot>();
  private next: number | undefined;
  private readonly rateHz: number;
  private frameMs: number;
  /** Unwrapping: the last packet's RTP timestamp and its media time (ms). */
  private lastTs = 0;
  private lastMediaMs = 0;
  /** Media time of the last released frame. */
  private playedMs = 0;
  private lastAudioSeq: number | undefined;
  private lastAudioMs = 0;
  private transitMs = 0;
  /** When packets first started waiting behind a missing one. */
  private gapSince: number | undefined;
  private readonly lateness = new Float64Array(WINDOW);
  private latenessCount = 0;
  private delay: number;
  private sinceEstimate = 0;
  readonly stats: JitterStats = { received: 0, late: 0, duplicate: 0, concealed: 0, skipped: 0, idle: 0 };

  constructor(private readonly options: JitterBufferOptions) {
    if (options.minDelayMs < 0 || options.maxDelayMs < options.minDelayMs || options.maxDepth < 1) {
      throw new RangeError('JitterBuffer needs 0 <= minDelayMs <= maxDelayMs and maxDepth >= 1');
    }
    this.rateHz = options.clockRateHz ?? 8000;
    this.frameMs = options.frameMs ?? 20;
    this.delay = options.minDelayMs;
  }

  /** Packets held (waiting behind a missing one). */
  get depth(): number {
    return this.slots.size;
  }

  /** The current adaptive delay (ms). */
  get delayMs(): number {
    return this.delay;
  }

  /** Whether a stream has started (frames are released on its timeline from then on). */
  get started(): boolean {
    return this.next !== undefined;
  }

  /** A packet arrived at `arrivalMs`; returns the frames it releases (itself and any it unblocked). */
  push(sequence: number, timestamp: number, payload: Uint8Array, arrivalMs: number): JitterOutput[] {
    if (this.next === undefined) {
      this.next = sequence;
      this.lastTs = timestamp;
      this.lastMediaMs = 0;
      this.playedMs = -this.frameMs;
      this.transitMs = arrivalMs;
    } else if (seqDelta(this.next, sequence) < 0) {
      this.stats.late++;
      return [];
    } else if (this.slots.has(sequence)) {
      this.stats.duplicate++;
      return [];
    }
    const mediaMs = this.mediaMs(timestamp);
    this.lastTs = timestamp;
    this.lastMediaMs = mediaMs;
    this.observe(mediaMs, arrivalMs);
    this.stats.received++;
    this.slots.set(sequence, { timestamp, mediaMs, payload });
    if (sequence !== this.next) this.gapSince ??= arrivalMs;
    return this.release(arrivalMs);
  }

  /** Frames whose deadline has passed by `nowMs` (lost or idle), with any they unblock. */
  due(nowMs: number): JitterOutput[] {
    return this.release(nowMs);
  }

  /** When `due()` will next release something; undefined before the first packet. */
  nextDeadline(): number | undefined {
    if (this.next === undefined) return undefined;
    if (this.slots.size > this.options.maxDepth) return -Infinity;
    return this.deadline();
  }

  /**
   * The next frame is given up at its expected arrival plus the delay; a missing packet is also
   * given the delay from when a later one showed it missing (a sender that bursts is "early").
   */
  private deadline(): number {
    const timeline = this.playedMs + this.frameMs + this.transitMs + this.delay;
    return this.slots.size > 0 && this.gapSince !== undefined ? Math.max(timeline, this.gapSince + this.delay) : timeline;
  }

  /** Drops everything (a re-INVITE changed the source). */
  reset(): void {
    this.slots.clear();
    this.gapSince = undefined;
    this.next = undefined;
    this.lastAudioSeq = undefined;
    this.latenessCount = 0;
    this.delay = this.options.minDelayMs;
  }

  private mediaMs(timestamp: number): number {
    return this.lastMediaMs + (((timestamp - this.lastTs) | 0) * 1000) / this.rateHz;
  }

  /** Updates the minimum transit and the lateness statistics with one arrival. */
  private observe(mediaMs: number, arrivalMs: number): void {
    this.transitMs += TRANSIT_CREEP * this.frameMs;
    let late = arrivalMs - mediaMs - this.transitMs;
    if (Math.abs(late) > RESYNC_MS) {
      // The sender's clock jumped (a restarted source): start the timeline again from here.
      this.transitMs = arrivalMs - mediaMs;
      this.playedMs = Math.min(this.playedMs, mediaMs - this.frameMs);
      if (this.slots.size === 0) this.playedMs = mediaMs - this.frameMs;
      this.latenessCount = 0;
      late = 0;
    } else if (late < 0) {
      this.transitMs += late;
      late = 0;
    }
    this.lateness[this.latenessCount % WINDOW] = late;
    this.latenessCount++;
    if (++this.sinceEstimate >= 10 || this.latenessCount <= 10) this.estimate();
  }

  private estimate(): void {
    this.sinceEstimate = 0;
    const n = Math.min(this.latenessCount, WINDOW);
    const sorted = Array.from(this.lateness.subarray(0, n)).sort((a, b) => a - b);
    const q = sorted[Math.min(n - 1, Math.floor(QUANTILE * n))] ?? 0;
    this.delay = Math.min(this.options.maxDelayMs, Math.max(this.options.minDelayMs, q));
  }

  private release(nowMs: number): JitterOutput[] {
    const out: JitterOutput[] = [];
    let idle = 0;
    for (;;) {
      const next = this.next as number;
      const slot = this.slots.get(next);
      if (slot) {
        this.slots.delete(next);
        this.learnFrameLength(next, slot.mediaMs);
        this.next = (next + 1) & 0xffff;
        this.playedMs = Math.max(this.playedMs, slot.mediaMs);
        out.push({ kind: 'audio', sequence: next, timestamp: slot.timestamp, payload: slot.payload });
        continue;
      }
      const overfull = this.slots.size > this.options.maxDepth;
      if (this.slots.size === 0) this.gapSince = undefined;
      if (!overfull && nowMs < this.deadline()) break;
      if (this.slots.size === 0) {
        if (idle++ >= MAX_IDLE_BURST) {
          // Far behind: skip to now, so the next idle frame is due one frame from now.
          const behind = Math.floor((nowMs - this.deadline()) / this.frameMs) + 1;
          this.stats.skipped += behind;
          this.playedMs += behind * this.frameMs;
          break;
        }
        this.playedMs += this.frameMs;
        this.stats.idle++;
        out.push({ kind: 'idle', timestamp: this.timestampAt(this.playedMs) });
        continue;
      }
      const oldest = this.oldestHeld() as number;
      const gap = seqDelta(next, oldest);
      if (gap > this.options.maxDepth) {
        // A jump, not a loss: concealing it frame by frame would only add latency.
        this.stats.skipped += gap;
        this.next = oldest;
        this.playedMs = (this.slots.get(oldest) as Slot).mediaMs - this.frameMs;
        continue;
      }
      this.playedMs += this.frameMs;
      this.next = (next + 1) & 0xffff;
      this.stats.concealed++;
      out.push({ kind: 'lost', sequence: next, timestamp: this.timestampAt(this.playedMs) });
    }
    return out;
  }

  private learnFrameLength(sequence: number, mediaMs: number): void {
    if (this.lastAudioSeq !== undefined && seqDelta(this.lastAudioSeq, sequence) === 1) {
      const step = mediaMs - this.lastAudioMs;
      if (step >= MIN_FRAME_MS && step <= MAX_FRAME_MS) this.frameMs = step;
    }
    this.lastAudioSeq = sequence;
    this.lastAudioMs = mediaMs;
  }

  private timestampAt(mediaMs: number): number {
    return (this.lastTs + Math.round(((mediaMs - this.lastMediaMs) * this.rateHz) / 1000)) >>> 0;
  }

  private oldestHeld(): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.slots.keys()) if (oldest === undefined || seqDelta(seq, oldest) > 0) oldest = seq;
    return oldest;
  }
}
