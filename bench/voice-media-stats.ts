/** What the voice benchmark measures of the gateway's outgoing stream at the caller. */
import type { RtpPacket } from '../src/voice/rtp/packet.ts';

export interface MediaFigures {
  /** Gateway share of turn latency, per turn (ms). */
  share: number[];
  /** |Δt − 20 ms| between consecutive packets at the caller (ms). */
  spacing: number[];
  /** Per call: packets per second over the call ÷ 50 − 1. */
  rateError: number[];
  /** Per call: RTP time elapsed ÷ wall time elapsed − 1 (timestamps that do not follow the clock). */
  clockError: number[];
}

/**
 * One caller's view of the stream. The first packet of a reply is sent in the next 20 ms slot
 * ahead of its time (lower latency), so the gap before the packet after it is longer by design:
 * those two gaps are not counted as jitter.
 */
export class CallerStats {
  readonly share: number[] = [];
  private readonly spacing: number[] = [];
  private last: { at: number; marker: boolean } | undefined;
  private first: { at: number; ts: number } | undefined;
  private latest: { at: number; ts: number } | undefined;
  private packets = 0;

  static empty(): MediaFigures {
    return { share: [], spacing: [], rateError: [], clockError: [] };
  }

  onPacket(p: RtpPacket, at: number): void {
    this.packets++;
    if (this.last && !p.marker && !this.last.marker) this.spacing.push(Math.abs(at - this.last.at - 20));
    this.last = { at, marker: p.marker };
    this.first ??= { at, ts: p.timestamp };
    this.latest = { at, ts: p.timestamp };
  }

  addTo(f: MediaFigures): void {
    f.share.push(...this.share);
    f.spacing.push(...this.spacing);
    if (this.first && this.latest && this.latest.at - this.first.at > 1000) {
      const wallMs = this.latest.at - this.first.at;
      f.rateError.push(((this.packets - 1) * 20) / wallMs - 1);
      f.clockError.push(((this.latest.ts - this.first.ts) >>> 0) / 8 / wallMs - 1);
    }
  }
}

/** Adds one call's figures (as a caller thread reports them) to the run's. */
export function addFigures(into: MediaFigures, from: MediaFigures): void {
  into.share.push(...from.share);
  into.spacing.push(...from.spacing);
  into.rateError.push(...from.rateError);
  into.clockError.push(...from.clockError);
}

export const pct = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
/** The error furthest from zero. */
export const worst = (xs: readonly number[]): number => xs.reduce((w, x) => (Math.abs(x) > Math.abs(w) ? x : w), 0);
