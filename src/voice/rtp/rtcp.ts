import { RtpError } from './errors.ts';

/** One reception report block (RFC 3550 §6.4.1). */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the last report, 0–255 (lost/expected × 256). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter, in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (0 if none). */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

export type RtcpReport = SenderReport | ReceiverReport;

const PT_SR = 200;
const PT_RR = 201;
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** Wall-clock ms since the Unix epoch → NTP seconds and fraction. */
export function toNtp(unixMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(unixMs / 1000);
  return { seconds: (seconds + NTP_UNIX_OFFSET_S) >>> 0, fraction: Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32) >>> 0 };
}

/** The "middle 32 bits" of an NTP timestamp, as LSR carries it. */
export function ntpMiddle(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

function writeBlock(buf: Buffer, offset: number, b: ReportBlock): void {
  buf.writeUInt32BE(b.ssrc >>> 0, offset);
  buf[offset + 4] = Math.max(0, Math.min(255, b.fractionLost));
  const lost = Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)) & 0xffffff;
  buf.writeUIntBE(lost, offset + 5, 3);
  buf.writeUInt32BE(b.extendedHighestSeq >>> 0, offset + 8);
  buf.writeUInt32BE(b.jitter >>> 0, offset + 12);
  buf.writeUInt32BE(b.lastSr >>> 0, offset + 16);
  buf.writeUInt32BE(b.delaySinceLastSr >>> 0, offset + 20);
}

function readBlock(buf: Buffer, offset: number): ReportBlock {
  const lost = buf.readUIntBE(offset + 5, 3);
  return {
    ssrc: buf.readUInt32BE(offset),
    fractionLost: buf[offset + 4] as number,
    cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
    extendedHighestSeq: buf.readUInt32BE(offset + 8),
    jitter: buf.readUInt32BE(offset + 12),
    lastSr: buf.readUInt32BE(offset + 16),
    delaySinceLastSr: buf.readUInt32BE(offset + 20),
  };
}

export function encodeRtcp(report: RtcpReport): Buffer {
  if (report.reports.length > 31) throw new RtpError('an RTCP report carries at most 31 blocks');
  const senderInfo = report.type === 'sr' ? 20 : 0;
  const length = 8 + senderInfo + 24 * report.reports.length;
  const buf = Buffer.alloc(length);
  buf[0] = 0x80 | report.reports.length;
  buf[1] = report.type === 'sr' ? PT_SR : PT_RR;
  buf.writeUInt16BE(length / 4 - 1, 2);
  buf.writeUInt32BE(report.ssrc >>> 0, 4);
  if (report.type === 'sr') {
    buf.writeUInt32BE(report.ntpSeconds >>> 0, 8);
    buf.writeUInt32BE(report.ntpFraction >>> 0, 12);
    buf.writeUInt32BE(report.rtpTimestamp >>> 0, 16);
    buf.writeUInt32BE(report.packetCount >>> 0, 20);
    buf.writeUInt32BE(report.octetCount >>> 0, 24);
  }
  report.reports.forEach((b, i) => writeBlock(buf, 8 + senderInfo + 24 * i, b));
  return buf;
}

/** Parses a compound RTCP packet; returns its SRs and RRs, skipping other types (SDES, BYE…). */
export function decodeRtcp(data: Uint8Array): RtcpReport[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: RtcpReport[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < 4) throw new RtpError('RTCP packet truncated');
    const b0 = buf[offset] as number;
    if (b0 >> 6 !== 2) throw new RtpError(`unsupported RTCP version ${b0 >> 6}`);
    const count = b0 & 0x1f;
    const pt = buf[offset + 1] as number;
    const bytes = (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + bytes > buf.length) throw new RtpError('RTCP length field exceeds the datagram');
    if (pt === PT_SR || pt === PT_RR) {
      const senderInfo = pt === PT_SR ? 20 : 0;
      if (bytes < 8 + senderInfo + 24 * count) throw new RtpError('RTCP report shorter than its blocks');
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(readBlock(buf, offset + 8 + senderInfo + 24 * i));
      const ssrc = buf.readUInt32BE(offset + 4);
      out.push(
        pt === PT_SR
          ? {
              type: 'sr',
              ssrc,
              ntpSeconds: buf.readUInt32BE(offset + 8),
              ntpFraction: buf.readUInt32BE(offset + 12),
              rtpTimestamp: buf.readUInt32BE(offset + 16),
              packetCount: buf.readUInt32BE(offset + 20),
              octetCount: buf.readUInt32BE(offset + 24),
              reports,
            }
          : { type: 'rr', ssrc, reports },
      );
    }
    offset += bytes;
  }
  return out;
}
