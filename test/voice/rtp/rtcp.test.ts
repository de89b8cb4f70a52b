import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpError } from '../../../src/voice/rtp/errors.ts';
import { ReceiverStats } from '../../../src/voice/rtp/receiver-stats.ts';
import { decodeRtcp, encodeRtcp, ntpMiddle, toNtp, type ReceiverReport, type SenderReport } from '../../../src/voice/rtp/rtcp.ts';

describe('RTCP', () => {
  const block = { ssrc: 0x0a0b0c0d, fractionLost: 64, cumulativeLost: -2, extendedHighestSeq: 0x10005, jitter: 37, lastSr: 0x12345678, delaySinceLastSr: 65536 };

  it('encodes a receiver report byte for byte', () => {
    const rr: ReceiverReport = { type: 'rr', ssrc: 1, reports: [block] };
    expect(encodeRtcp(rr).toString('hex')).toBe('81c90007' + '00000001' + '0a0b0c0d' + '40' + 'fffffe' + '00010005' + '00000025' + '12345678' + '00010000');
  });

  it('round-trips a sender report inside a compound packet with SDES', () => {
    const sr: SenderReport = { type: 'sr', ssrc: 9, ntpSeconds: 3_900_000_000, ntpFraction: 2 ** 31, rtpTimestamp: 160_000, packetCount: 1000, octetCount: 160_000, reports: [block] };
    const sdes = Buffer.from('81ca000200000009' + '01000000', 'hex'); // SDES chunk, skipped
    expect(decodeRtcp(Buffer.concat([encodeRtcp(sr), sdes]))).toEqual([sr]);
  });

  it('only ever throws RtpError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          decodeRtcp(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(RtpError);
        }
      }),
    );
  });

  it('converts Unix time to NTP (1900 epoch) and takes its middle 32 bits', () => {
    const ntp = toNtp(Date.UTC(2026, 0, 1) + 500);
    expect(ntp.seconds).toBe(Date.UTC(2026, 0, 1) / 1000 + 2_208_988_800);
    expect(ntp.fraction).toBe(2 ** 31);
    expect(ntpMiddle(0x0001abcd, 0x12340000)).toBe(0xabcd1234);
  });
});

describe('ReceiverStats', () => {
  it('counts loss from the extended highest sequence number across the wrap', () => {
    const s = new ReceiverStats(5, 8000);
    let t = 0;
    for (const seq of [65533, 65534, 65535, 1, 2, 3]) s.onPacket(seq, (t += 160), t / 8); // 0 is lost
    expect(s.extendedHighestSeq).toBe(0x10003);
    expect(s.cumulativeLost).toBe(1);
    const r = s.reportBlock(1000);
    expect(r.fractionLost).toBe(Math.floor((1 << 8) / 7));
    expect(s.reportBlock(1000).fractionLost).toBe(0); // nothing new since
  });

  it('estimates interarrival jitter in timestamp units (RFC 3550 A.8)', () => {
    const s = new ReceiverStats(5, 8000);
    // Packets every 20 ms of media, arriving alternately 0 and 4 ms late: |D| = 32 units each time.
    for (let i = 0; i < 400; i++) s.onPacket(i, i * 160, i * 20 + (i % 2) * 4);
    expect(s.reportBlock(0).jitter).toBeGreaterThan(30);
    expect(s.reportBlock(0).jitter).toBeLessThanOrEqual(32);
    expect(s.jitterMs).toBeCloseTo(4, 0);
  });

  it('reports LSR and DLSR from the last sender report', () => {
    const s = new ReceiverStats(5, 8000);
    s.onPacket(1, 160, 0);
    s.onSenderReport(0x0001abcd, 0x12340000, 1000);
    const r = s.reportBlock(1500);
    expect(r.lastSr).toBe(0xabcd1234);
    expect(r.delaySinceLastSr).toBe(32768);
  });
});
