import { randomInt } from 'node:crypto';
import { encodeRtp } from './packet.ts';

/**
 * Numbering of one outgoing RTP stream (RFC 3550 §5.1): random SSRC, initial sequence and
 * timestamp; sequence +1 per packet. Timestamps come from sampling time: sample n of the stream
 * is stamped origin + n, whether or not anything was sent for the samples before it.
 */
export class RtpSender {
  readonly ssrc: number;
  private sequence: number;
  private origin: number;
  packets = 0;
  octets = 0;

  constructor(opts: { ssrc?: number; sequence?: number; timestamp?: number } = {}) {
    this.ssrc = opts.ssrc ?? randomInt(0, 2 ** 32);
    this.sequence = opts.sequence ?? randomInt(0, 2 ** 16);
    this.origin = opts.timestamp ?? randomInt(0, 2 ** 32);
  }

  /** The RTP timestamp of the sample `samples` after the stream's origin. */
  timestampAt(samples: number): number {
    return (this.origin + samples) >>> 0;
  }

  /** Moves the origin `samples` earlier: the send schedule moved that much sooner in time. */
  shiftEarlier(samples: number): void {
    this.origin = (this.origin - samples) >>> 0;
  }

  /** The next packet of the stream, stamped `timestamp`. */
  packet(payloadType: number, payload: Uint8Array, timestamp: number, marker: boolean): Buffer {
    const buf = encodeRtp({ payloadType, marker, sequence: this.sequence, timestamp: timestamp >>> 0, ssrc: this.ssrc, payload });
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packets++;
    this.octets += payload.length;
    return buf;
  }
}
