import { seqDelta } from './packet.ts';

export interface JitterBufferOptions {
  /** Frames held before playout starts (and after an underrun): the added latency. */
  targetDepth: number;
  /** Frames held at most; past it the oldest are skipped so latency cannot grow unbounded. */
  maxDepth: number;
}

/** What one 20 ms pull yields: the frame's payload, or null for a frame that was lost. */
export interface JitterFrame {
  sequence: number;
  timestamp: number;
  payload: Uint8Array | null;
}

export interface JitterStats {
  received: number;
  late: number;
  duplicate: number;
  concealed: number;
  skipped: number;
  underruns: number;
}

interface Slot {
  timestamp: number;
  payload: Uint8Array;
}

/**
 * Receive jitter buffer keyed by RTP sequence number. Packets are pushed as they arrive, in any
 * order; `pop()` is called once per frame period and returns frames in sequence order. A gap
 * with later packets already waiting is a loss (payload null, for the decoder to conceal); an
 * empty buffer is an underrun and re-primes to `targetDepth`.
 */
export class JitterBuffer {
  private readonly slots = new Map<number, Slot>();
  private next: number | undefined;
  private lastTimestamp = 0;
  private frameTicks = 160;
  private priming = true;
  /** A frame has been played since the last reset: older packets are late from now on. */
  private playing = false;
  readonly stats: JitterStats = { received: 0, late: 0, duplicate: 0, concealed: 0, skipped: 0, underruns: 0 };

  constructor(private readonly options: JitterBufferOptions) {
    if (options.targetDepth < 1 || options.maxDepth < options.targetDepth) {
      throw new RangeError('JitterBuffer needs 1 <= targetDepth <= maxDepth');
    }
  }

  get depth(): number {
    return this.slots.size;
  }

  push(sequence: number, timestamp: number, payload: Uint8Array): void {
    if (this.next !== undefined && this.playing && seqDelta(this.next, sequence) < 0) {
      this.stats.late++;
      return;
    }
    if (this.slots.has(sequence)) {
      this.stats.duplicate++;
      return;
    }
    this.stats.received++;
    this.slots.set(sequence, { timestamp, payload });
    if (this.next === undefined) this.next = sequence;
    else if (seqDelta(sequence, this.next) > 0) this.next = sequence; // an earlier packet arrived first
    while (this.slots.size > this.options.maxDepth) this.skipOldest();
  }

  /** The next frame in order, or undefined while priming or after an underrun. */
  pop(): JitterFrame | undefined {
    if (this.next === undefined) return undefined;
    if (this.priming) {
      if (this.slots.size < this.options.targetDepth) return undefined;
      this.priming = false;
    }
    if (this.slots.size === 0) {
      this.stats.underruns++;
      this.priming = true;
      return undefined;
    }
    const sequence = this.next;
    this.next = (sequence + 1) & 0xffff;
    this.playing = true;
    const slot = this.slots.get(sequence);
    if (slot) {
      this.slots.delete(sequence);
      if (slot.timestamp !== this.lastTimestamp) {
        const step = (slot.timestamp - this.lastTimestamp) >>> 0;
        if (step > 0 && step <= 160 * 6) this.frameTicks = step;
      }
      this.lastTimestamp = slot.timestamp;
      return { sequence, timestamp: slot.timestamp, payload: slot.payload };
    }
    this.stats.concealed++;
    this.lastTimestamp = (this.lastTimestamp + this.frameTicks) >>> 0;
    return { sequence, timestamp: this.lastTimestamp, payload: null };
  }

  /** Drops everything (a re-INVITE changed the source). */
  reset(): void {
    this.slots.clear();
    this.next = undefined;
    this.priming = true;
    this.playing = false;
  }

  private skipOldest(): void {
    const oldest = this.oldestHeld();
    if (oldest === undefined) return;
    this.slots.delete(oldest);
    this.stats.skipped++;
    // Sequence numbers between the skipped packet and the next held one are gone too.
    this.next = this.oldestHeld() ?? (oldest + 1) & 0xffff;
  }

  private oldestHeld(): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.slots.keys()) if (oldest === undefined || seqDelta(seq, oldest) > 0) oldest = seq;
    return oldest;
  }
}
