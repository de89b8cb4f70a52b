import { EventEmitter } from 'node:events';
import type { Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { decodeRtp, type RtpPacket } from '../../../src/voice/rtp/packet.ts';
import { MediaStream, type MediaStreamOptions } from '../../../src/voice/rtp/media-stream.ts';
import type { TimerClock } from '../../../src/clock/index.ts';
import { tone } from '../audio/signals.ts';
import { LateClock } from './late-clock.ts';

/** A socket stand-in that records what the stream sends, stamped with the clock time it was sent. */
function recordingSockets(clock: TimerClock) {
  const sent: Array<RtpPacket & { atMs: number }> = [];
  const make = (record: boolean) => {
    const s = new EventEmitter() as EventEmitter & { send: (b: Buffer) => void; close: () => void };
    s.send = (b) => void (record && sent.push({ ...decodeRtp(b), atMs: clock.now() }));
    s.close = () => undefined;
    return s as unknown as Socket;
  };
  return { sent, sockets: { rtp: make(true), rtcp: make(false), port: 40_000 } };
}

function stream(clock: TimerClock, options: Partial<MediaStreamOptions> = {}) {
  const { sent, sockets } = recordingSockets(clock);
  const media = new MediaStream({ clock, sockets, remote: { address: '192.0.2.1', port: 4000 }, codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: 101 }, ...options });
  return { media, sent };
}

const tsDelta = (a: RtpPacket, b: RtpPacket) => (b.timestamp - a.timestamp) >>> 0;
const seqDelta = (a: RtpPacket, b: RtpPacket) => (b.sequence - a.sequence) & 0xffff;

describe('outgoing RTP on the wall clock (timers made late by a busy event loop)', () => {
  it('sends exactly 3000 packets over 60 s with every timer up to 250 ms late: +160 timestamps, no gap, no drift', () => {
    const clock = new LateClock(250, 7);
    const { media, sent } = stream(clock);
    media.start();
    // Replies now and then (1 s each), silence frames in between, as a call with a talkative agent.
    for (let t = 0; t < 60_000; t += 10) {
      if (t % 3000 === 1230) media.play(tone(440, 8000, 8000, 6000));
      clock.advance(10);
    }
    // Every slot due by 60 s has gone out, except those whose late timer has not fired yet.
    expect(sent.length).toBeGreaterThanOrEqual(3000 - 15);
    expect(sent.length).toBeLessThanOrEqual(3000);
    clock.advance(300); // the last late timer fires
    const first60s = sent.slice(0, 3000);
    expect(first60s).toHaveLength(3000);
    for (let i = 1; i < first60s.length; i++) {
      const [a, b] = [first60s[i - 1] as RtpPacket, first60s[i] as RtpPacket];
      expect(seqDelta(a, b)).toBe(1);
      expect(tsDelta(a, b)).toBe(160);
    }
    // Timestamps follow the clock: packet n is stamped n × 20 ms after the first and never sent before its time.
    const start = (first60s[0] as { atMs: number }).atMs - 20;
    for (const [n, p] of first60s.entries()) expect(p.atMs).toBeGreaterThanOrEqual(start + (n + 1) * 20 - 20);
    // All 20 replies went out whole, each with one marker.
    expect(first60s.filter((p) => p.marker)).toHaveLength(20);
    expect(first60s.filter((p) => p.payload.some((b) => b !== 0xff))).toHaveLength(20 * 50);
    media.close();
  });

  it('without silence frames, a late timer still sends every queued frame in its slot: the reply has no hole', () => {
    const clock = new LateClock(250, 11);
    const { media, sent } = stream(clock, { sendSilence: false });
    media.start();
    clock.advance(1000);
    media.play(tone(440, 8000, 8000 * 2, 6000)); // 2 s = 100 frames
    for (let i = 0; i < 300; i++) clock.advance(10);
    expect(sent).toHaveLength(100);
    expect(sent.filter((p) => p.marker)).toHaveLength(1);
    for (let i = 1; i < sent.length; i++) expect(tsDelta(sent[i - 1] as RtpPacket, sent[i] as RtpPacket)).toBe(160);
    media.close();
  });

  it('keeps the RTP clock on the wall clock: a talkspurt after suppressed silence is stamped with its sampling time', () => {
    const clock = new LateClock(0);
    const { media, sent } = stream(clock, { sendSilence: false });
    media.start();
    media.play(tone(440, 8000, 320, 6000)); // 2 frames at 0 and 20
    clock.advance(1007);
    media.play(tone(440, 8000, 320, 6000)); // sent at once, at 1007
    clock.advance(100);
    expect(sent.map((p) => p.atMs)).toEqual([0, 20, 1007, 1027]);
    expect(tsDelta(sent[0] as RtpPacket, sent[2] as RtpPacket)).toBe(1007 * 8);
    expect(tsDelta(sent[2] as RtpPacket, sent[3] as RtpPacket)).toBe(160);
    media.close();
  });
});
