import { describe, expect, it } from 'vitest';
import { decodeTelephoneEvent, dtmfPackets, DtmfReceiver, encodeTelephoneEvent } from '../../../src/voice/rtp/dtmf.ts';
import { RtpError } from '../../../src/voice/rtp/errors.ts';

describe('RFC 4733 telephone-event', () => {
  it('encodes event, end bit, volume and duration (golden)', () => {
    expect(Buffer.from(encodeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 800 })).toString('hex')).toBe('0b8a0320');
    expect(decodeTelephoneEvent(Buffer.from('050a00a0', 'hex'))).toEqual({ event: 5, end: false, volume: 10, duration: 160 });
  });

  it('sends a digit as growing updates then three end packets', () => {
    const packets = dtmfPackets('#', 100).map((p) => ({ ...decodeTelephoneEvent(p.payload), marker: p.marker }));
    expect(packets.map((p) => [p.duration, p.end, p.marker])).toEqual([
      [160, false, true],
      [320, false, false],
      [480, false, false],
      [640, false, false],
      [800, true, false],
      [800, true, false],
      [800, true, false],
    ]);
    expect(() => dtmfPackets('x', 100)).toThrow(RtpError);
  });

  it('reports each digit once, however many end packets arrive', () => {
    const rx = new DtmfReceiver();
    const got: string[] = [];
    for (const d of ['1', '2']) {
      const ts = d === '1' ? 1000 : 5000;
      for (const p of dtmfPackets(d, 100)) got.push(...rx.onPacket(ts, p.payload).map((e) => `${e.digit}@${e.timestamp}/${e.durationMs}`));
    }
    expect(got).toEqual(['1@1000/100', '2@5000/100']);
  });

  it('tells a repeated digit apart by its timestamp', () => {
    const rx = new DtmfReceiver();
    const got: string[] = [];
    for (const ts of [1000, 3000]) for (const p of dtmfPackets('5', 60)) got.push(...rx.onPacket(ts, p.payload).map((e) => e.digit));
    expect(got).toEqual(['5', '5']);
  });

  it('still reports a digit whose end packets were all lost, when the next one starts', () => {
    const rx = new DtmfReceiver();
    const first = dtmfPackets('7', 100).filter((p) => !decodeTelephoneEvent(p.payload).end);
    const got: string[] = [];
    for (const p of first) got.push(...rx.onPacket(100, p.payload).map((e) => e.digit));
    expect(got).toEqual([]);
    for (const p of dtmfPackets('8', 100)) got.push(...rx.onPacket(900, p.payload).map((e) => e.digit));
    expect(got).toEqual(['7', '8']);
  });
});
