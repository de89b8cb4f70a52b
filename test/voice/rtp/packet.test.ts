import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRtp, encodeRtp, isRtcp, seqDelta } from '../../../src/voice/rtp/packet.ts';
import { RtpError } from '../../../src/voice/rtp/errors.ts';
import { RtpSender } from '../../../src/voice/rtp/rtp-sender.ts';

describe('RTP packets', () => {
  it('encodes the RFC 3550 header byte for byte', () => {
    const buf = encodeRtp({ payloadType: 0, marker: true, sequence: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304, payload: Uint8Array.of(0xff, 0x7f) });
    expect(buf.toString('hex')).toBe('80801234deadbeef01020304ff7f');
  });

  it('decodes CSRCs, skips a header extension and strips padding', () => {
    // V=2 P=1 X=1 CC=1, PT 8, seq 1, ts 2, ssrc 3, csrc 4, ext (profile 0xbede, 1 word), payload aa bb, 2 padding bytes
    const hex = 'b108000100000002000000030000000 4bede0001 11223344 aabb 0002'.replace(/ /g, '');
    const p = decodeRtp(Buffer.from(hex.replace('0000000 4', '00000004'), 'hex'));
    expect(p).toMatchObject({ payloadType: 8, marker: false, sequence: 1, timestamp: 2, ssrc: 3, csrcs: [4] });
    expect(Buffer.from(p.payload).toString('hex')).toBe('aabb');
  });

  it('round-trips any header and payload', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 127 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 320 }),
        (payloadType, marker, sequence, timestamp, ssrc, payload) => {
          const p = decodeRtp(encodeRtp({ payloadType, marker, sequence, timestamp, ssrc, payload }));
          expect({ ...p, payload: Array.from(p.payload) }).toEqual({ payloadType, marker, sequence, timestamp, ssrc, csrcs: [], payload: Array.from(payload) });
        },
      ),
    );
  });

  it('only ever throws RtpError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeRtp(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(RtpError);
        }
      }),
    );
  });

  it('tells RTCP from RTP on a shared port by payload type', () => {
    expect(isRtcp(Buffer.from('80c80006', 'hex').subarray(0, 4))).toBe(false); // too short to be RTCP
    expect(isRtcp(Buffer.from('80c8000600000000', 'hex'))).toBe(true);
    expect(isRtcp(encodeRtp({ payloadType: 0, marker: true, sequence: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(160) }))).toBe(false);
  });

  it('measures sequence distance across the 16-bit wrap', () => {
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
    expect(seqDelta(100, 90)).toBe(-10);
  });
});

describe('RtpSender', () => {
  it('numbers packets: sequence +1 per packet, timestamps from sampling time, both wrapping', () => {
    const s = new RtpSender({ ssrc: 7, sequence: 0xffff, timestamp: 0xffffff00 });
    const a = decodeRtp(s.packet(0, new Uint8Array(160), s.timestampAt(0), true));
    const b = decodeRtp(s.packet(0, new Uint8Array(160), s.timestampAt(160), false));
    // a silent frame not sent (samples 320-479), then a talkspurt
    const c = decodeRtp(s.packet(0, new Uint8Array(160), s.timestampAt(480), true));
    expect([a.sequence, b.sequence, c.sequence]).toEqual([0xffff, 0, 1]);
    expect([a.timestamp, b.timestamp, c.timestamp]).toEqual([0xffffff00, 0xffffffa0, 0xe0]);
    expect([a.marker, b.marker, c.marker]).toEqual([true, false, true]);
    expect(s.packets).toBe(3);
    expect(s.octets).toBe(480);
    s.shiftEarlier(0x100);
    expect(s.timestampAt(0)).toBe(0xfffffe00);
  });

  it('picks a random SSRC and starting numbers', () => {
    const seen = new Set(Array.from({ length: 20 }, () => new RtpSender().ssrc));
    expect(seen.size).toBeGreaterThan(15);
  });
});
