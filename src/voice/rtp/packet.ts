import { RtpError } from './errors.ts';

/** One RTP packet (RFC 3550 §5.1), with the payload as a view into the datagram. */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  /** 16-bit, wraps. */
  sequence: number;
  /** 32-bit, unsigned, in the payload's clock units (8000 Hz for G.711). */
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  payload: Uint8Array;
}

const HEADER_BYTES = 12;

export function encodeRtp(p: Omit<RtpPacket, 'csrcs'> & { csrcs?: number[] }): Buffer {
  const csrcs = p.csrcs ?? [];
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 4 * csrcs.length + p.payload.length);
  buf[0] = 0x80 | csrcs.length; // V=2, P=0, X=0, CC
  buf[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  buf.writeUInt16BE(p.sequence & 0xffff, 2);
  buf.writeUInt32BE(p.timestamp >>> 0, 4);
  buf.writeUInt32BE(p.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => buf.writeUInt32BE(c >>> 0, HEADER_BYTES + 4 * i));
  buf.set(p.payload, HEADER_BYTES + 4 * csrcs.length);
  return buf;
}

/** Parses an RTP datagram: skips header extensions, strips padding; throws RtpError. */
export function decodeRtp(data: Uint8Array): RtpPacket {
  if (data.length < HEADER_BYTES) throw new RtpError(`RTP packet too short (${data.length} bytes)`);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const b0 = buf[0] as number;
  if (b0 >> 6 !== 2) throw new RtpError(`unsupported RTP version ${b0 >> 6}`);
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  let offset = HEADER_BYTES + 4 * cc;
  if (buf.length < offset) throw new RtpError('RTP packet shorter than its CSRC list');
  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++) csrcs.push(buf.readUInt32BE(HEADER_BYTES + 4 * i));
  if (extension) {
    if (buf.length < offset + 4) throw new RtpError('RTP header extension truncated');
    offset += 4 + 4 * buf.readUInt16BE(offset + 2);
    if (buf.length < offset) throw new RtpError('RTP header extension longer than the packet');
  }
  let end = buf.length;
  if (padding) {
    const pad = buf[buf.length - 1] as number;
    if (pad === 0 || end - pad < offset) throw new RtpError('RTP padding length is invalid');
    end -= pad;
  }
  const b1 = buf[1] as number;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    payload: buf.subarray(offset, end),
  };
}

/** RTCP (RFC 5761 §4) shares the port in rtcp-mux: payload types 64–95 after the marker bit. */
export function isRtcp(data: Uint8Array): boolean {
  const pt = (data[1] ?? 0) & 0x7f;
  return data.length >= 8 && pt >= 64 && pt <= 95;
}

/** Signed distance from sequence a to b, modulo 2^16 (positive when b is after a). */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
