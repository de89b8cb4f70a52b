import { randomInt } from 'node:crypto';
import { encodeRtp } from './packet.ts';

/**
 * Numbering of one outgoing RTP stream (RFC 3550 §5.1): random SSRC, initial sequence and
 * timestamp; sequence +1 per packet; timestamp advances with sampling time, including time in
 * which nothing was sent; the marker bit on the first packet of each talkspurt.
 */
export class RtpSender {
  readonly ssrc: number;
  private sequence: number;
  private timestamp: number;
  packets = 0;
  octets = 0;

  constructor(opts: { ssrc?: number; sequence?: number; timestamp?: number } = {}) {
    this.ssrc = opts.ssrc ?? randomInt(0, 2 ** 32);
    this.sequence = opts.sequence ?? randomInt(0, 2 ** 16);
    this.timestamp = opts.timestamp ?? randomInt(0, 2 ** 32);
  }

  get rtpTimestamp(): number {
    return this.timestamp;
  }

  /** A media packet for the frame starting now; then the clock moves on by `samples`. */
  media(payloadType: number, payload: Uint8Array, samples: number, marker: boolean): Buffer {
    const packet = this.packet(payloadType, payload, this.timestamp, marker);
    this.advance(samples);
    return packet;
  }

  /** A packet stamped with an explicit timestamp (RFC 4733 events keep their start time). */
  packet(payloadType: number, payload: Uint8Array, timestamp: number, marker: boolean): Buffer {
    const buf = encodeRtp({ payloadType, marker, sequence: this.sequence, timestamp, ssrc: this.ssrc, payload });
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packets++;
    this.octets += payload.length;
    return buf;
  }

  /** Sets the timestamp of the next frame (a talkspurt that starts between ticks). */
  retime(timestamp: number): void {
    this.timestamp = timestamp >>> 0;
  }

  /** Sampling time passed with nothing sent (silence suppression, or a DTMF event's frame). */
  advance(samples: number): void {
    this.timestamp = (this.timestamp + samples) >>> 0;
  }
}
