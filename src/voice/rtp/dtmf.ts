import { RtpError } from './errors.ts';

/** RFC 4733 §3.2 telephone-event payload. */
export interface TelephoneEvent {
  /** 0–9, 10 = '*', 11 = '#', 12–15 = A–D. */
  event: number;
  end: boolean;
  /** Power level in -dBm0 (0–63). */
  volume: number;
  /** In timestamp units since the event began. */
  duration: number;
}

const DIGITS = '0123456789*#ABCD';

export function dtmfDigit(event: number): string | undefined {
  return DIGITS[event];
}

export function dtmfEvent(digit: string): number {
  const i = DIGITS.indexOf(digit.toUpperCase());
  if (i < 0 || digit.length !== 1) throw new RtpError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  return i;
}

export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  const out = new Uint8Array(4);
  out[0] = e.event & 0xff;
  out[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  out[2] = (e.duration >> 8) & 0xff;
  out[3] = e.duration & 0xff;
  return out;
}

export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent {
  if (payload.length < 4) throw new RtpError(`telephone-event payload too short (${payload.length} bytes)`);
  const b1 = payload[1] as number;
  return {
    event: payload[0] as number,
    end: (b1 & 0x80) !== 0,
    volume: b1 & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

export interface DtmfDigitEvent {
  digit: string;
  /** RTP timestamp at which the event began: its identity. */
  timestamp: number;
  durationMs: number;
}

/**
 * Turns telephone-event packets into digits, once each. An event is identified by its RTP
 * timestamp; its end packet is sent three times (RFC 4733 §2.5.1.4), so the first end packet
 * reports the digit and the rest are ignored. A digit whose end packets were all lost is
 * reported when the next event begins.
 */
export class DtmfReceiver {
  private current: { timestamp: number; event: number; duration: number; reported: boolean } | undefined;
  private readonly recent: number[] = [];

  constructor(private readonly clockRateHz = 8000) {}

  /** Feeds one telephone-event payload; returns the digit when this packet completes one. */
  onPacket(timestamp: number, payload: Uint8Array): DtmfDigitEvent[] {
    const e = decodeTelephoneEvent(payload);
    const out: DtmfDigitEvent[] = [];
    if (this.recent.includes(timestamp)) return out; // a retransmitted end of a reported event
    if (this.current && this.current.timestamp !== timestamp) {
      if (!this.current.reported) out.push(...this.finish());
      this.current = undefined;
    }
    if (!this.current) this.current = { timestamp, event: e.event, duration: e.duration, reported: false };
    this.current.duration = Math.max(this.current.duration, e.duration);
    if (e.end) out.push(...this.finish());
    return out;
  }

  private finish(): DtmfDigitEvent[] {
    const c = this.current;
    if (!c || c.reported) return [];
    c.reported = true;
    this.recent.push(c.timestamp);
    if (this.recent.length > 8) this.recent.shift();
    this.current = undefined;
    const digit = dtmfDigit(c.event);
    return digit === undefined ? [] : [{ digit, timestamp: c.timestamp, durationMs: Math.round((c.duration * 1000) / this.clockRateHz) }];
  }
}

/**
 * The packets that send one digit: an update every `packetMs` with the growing duration
 * (the first with the marker bit), then the end packet three times, all with the event's
 * starting timestamp.
 */
export function dtmfPackets(digit: string, durationMs: number, opts: { volume?: number; packetMs?: number; clockRateHz?: number } = {}): Array<{ payload: Uint8Array; marker: boolean }> {
  const event = dtmfEvent(digit);
  const packetMs = opts.packetMs ?? 20;
  const rate = opts.clockRateHz ?? 8000;
  const volume = opts.volume ?? 10;
  const out: Array<{ payload: Uint8Array; marker: boolean }> = [];
  const steps = Math.max(1, Math.round(durationMs / packetMs));
  for (let i = 1; i < steps; i++) {
    out.push({ payload: encodeTelephoneEvent({ event, end: false, volume, duration: (i * packetMs * rate) / 1000 }), marker: i === 1 });
  }
  const total = (steps * packetMs * rate) / 1000;
  for (let i = 0; i < 3; i++) out.push({ payload: encodeTelephoneEvent({ event, end: true, volume, duration: total }), marker: steps === 1 && i === 0 });
  return out;
}
