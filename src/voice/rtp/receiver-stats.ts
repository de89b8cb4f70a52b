import { ntpMiddle, type ReportBlock } from './rtcp.ts';
import { seqDelta } from './packet.ts';

/**
 * What a receiver keeps about one source to fill its reception report: loss from the extended
 * highest sequence number (RFC 3550 A.3) and interarrival jitter (A.8).
 */
export class ReceiverStats {
  private started = false;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transitPrev: number | undefined;
  private jitterUnits = 0;
  private lastSrMiddle = 0;
  private lastSrAtMs: number | undefined;

  constructor(
    readonly ssrc: number,
    private readonly clockRateHz: number,
  ) {}

  /** A packet arrived at `arrivalMs` (any monotonic ms clock). */
  onPacket(sequence: number, timestamp: number, arrivalMs: number): void {
    if (!this.started) {
      this.started = true;
      this.baseSeq = sequence;
      this.maxSeq = sequence;
    } else {
      const d = seqDelta(this.maxSeq, sequence);
      if (d > 0) {
        if (sequence < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = sequence;
      }
    }
    this.received++;
    const arrivalUnits = (arrivalMs * this.clockRateHz) / 1000;
    const transit = arrivalUnits - timestamp;
    if (this.transitPrev !== undefined) {
      let d = Math.abs(transit - this.transitPrev);
      if (d > 2 ** 31) d = Math.abs(d - 2 ** 32); // timestamp wrapped
      this.jitterUnits += (d - this.jitterUnits) / 16;
    }
    this.transitPrev = transit;
  }

  /** A sender report from this source arrived (for LSR/DLSR). */
  onSenderReport(ntpSeconds: number, ntpFraction: number, arrivalMs: number): void {
    this.lastSrMiddle = ntpMiddle(ntpSeconds, ntpFraction);
    this.lastSrAtMs = arrivalMs;
  }

  get packetsReceived(): number {
    return this.received;
  }

  get jitterMs(): number {
    return (this.jitterUnits * 1000) / this.clockRateHz;
  }

  get extendedHighestSeq(): number {
    return this.cycles + this.maxSeq;
  }

  get cumulativeLost(): number {
    return this.started ? this.extendedHighestSeq - this.baseSeq + 1 - this.received : 0;
  }

  /** The report block for this source; moves the "since last report" window. */
  reportBlock(nowMs: number): ReportBlock {
    const expected = this.started ? this.extendedHighestSeq - this.baseSeq + 1 : 0;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: this.cumulativeLost,
      extendedHighestSeq: this.extendedHighestSeq >>> 0,
      jitter: Math.floor(this.jitterUnits),
      lastSr: this.lastSrMiddle,
      delaySinceLastSr: this.lastSrAtMs === undefined ? 0 : Math.floor(((nowMs - this.lastSrAtMs) / 1000) * 65536),
    };
  }
}
