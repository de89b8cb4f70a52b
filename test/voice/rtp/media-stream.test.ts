import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { monotonicClock } from '../../../src/clock/index.ts';
import { decodeTelephoneEvent } from '../../../src/voice/rtp/dtmf.ts';
import { MediaStream, type MediaStreamOptions } from '../../../src/voice/rtp/media-stream.ts';
import { bindRtpPorts } from '../../../src/voice/rtp/udp-port.ts';
import { tone } from '../audio/signals.ts';
import { RtpPeer } from '../helpers/rtp-peer.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function setup(options: Partial<MediaStreamOptions> = {}) {
  const peer = await RtpPeer.open();
  const sockets = await bindRtpPorts('127.0.0.1', { min: 40_000, max: 40_999 });
  const stream = new MediaStream({
    clock: monotonicClock,
    sockets,
    remote: { address: '127.0.0.1', port: peer.port },
    codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: 101 },
    sendSilence: false,
    ...options,
  });
  peer.sendTo('127.0.0.1', sockets.port);
  open.push(peer, stream);
  stream.start();
  return { peer, stream, sockets };
}

describe('MediaStream over loopback UDP', () => {
  it('binds an even RTP port with RTCP on the odd port above it, inside the range', async () => {
    const { sockets } = await setup();
    expect(sockets.port % 2).toBe(0);
    expect(sockets.port).toBeGreaterThanOrEqual(40_000);
    expect(sockets.rtcp.address().port).toBe(sockets.port + 1);
  });

  it('reorders, conceals a lost packet and delivers 20 ms frames of caller audio', async () => {
    const { peer, stream } = await setup();
    const frames = peer.frames(tone(1000, 8000, 8000 * 0.5)); // 25 frames
    const sent = [...frames];
    [sent[5], sent[6]] = [sent[6] as (typeof sent)[number], sent[5] as (typeof sent)[number]];
    sent.splice(sent.indexOf(frames[10] as (typeof sent)[number]), 1);
    for (const f of sent) peer.sendPacket(f);
    const got: Int16Array[] = [];
    stream.on('frame', (pcm) => {
      if (pcm.some((s) => s !== 0)) got.push(pcm);
    });
    await new Promise<void>((resolve) => stream.on('frame', () => got.length >= 25 && resolve()));
    expect(stream.jitterStats).toMatchObject({ received: 24, concealed: 1, late: 0 });
    expect(got.every((f) => f.length === 160)).toBe(true);
    // Frame 5 (sent after 6) is in its place: it starts where a continuous 1 kHz tone would.
    const expected = tone(1000, 8000, 8000 * 0.5);
    expect(Math.abs((got[5]?.[0] as number) - (expected[800] as number))).toBeLessThan(400);
    // The lost frame 10 is concealed at half level, not silence and not a glitch.
    const peak = (f: Int16Array) => Math.max(...f.map(Math.abs));
    expect(peak(got[10] as Int16Array)).toBeGreaterThan(3000);
    expect(peak(got[10] as Int16Array)).toBeLessThan(6500);
  });

  it('sends queued audio as paced RTP: consecutive sequence, +160 timestamps, marker on the talkspurt', async () => {
    const { peer, stream } = await setup();
    stream.play(tone(440, 8000, 1600)); // 10 frames
    await once(stream, 'drained');
    await peer.until(() => peer.received.length >= 10);
    const p = peer.received;
    expect(p.map((x) => x.marker)).toEqual([true, ...Array(9).fill(false)]);
    for (let i = 1; i < p.length; i++) {
      expect(((p[i]?.sequence as number) - (p[i - 1]?.sequence as number)) & 0xffff).toBe(1);
      expect(((p[i]?.timestamp as number) - (p[i - 1]?.timestamp as number)) >>> 0).toBe(160);
    }
    expect(new Set(p.map((x) => x.ssrc)).size).toBe(1);
    // 10 frames take ~180 ms between first and last: paced, not burst.
    expect((p[9]?.atMs as number) - (p[0]?.atMs as number)).toBeGreaterThan(150);
    // A second utterance after a silent frame is a new talkspurt: marker again.
    await once(stream, 'frame');
    await once(stream, 'frame');
    stream.play(tone(440, 8000, 320));
    await peer.until(() => peer.received.length >= 12);
    expect(peer.received[10]?.marker).toBe(true);
  });

  it('flushes the outgoing queue at once on barge-in and counts what was heard', async () => {
    const { peer, stream } = await setup();
    stream.play(tone(440, 8000, 8000)); // 1 s = 50 frames
    await peer.until(() => peer.received.length >= 5);
    const dropped = stream.flush();
    const heard = stream.playedSamples;
    expect(dropped).toBeGreaterThan(500);
    expect(heard + (dropped * 8000) / 1000).toBe(8000);
    await once(stream, 'frame');
    await once(stream, 'frame');
    expect(peer.received.length).toBeLessThanOrEqual(heard / 160);
  });

  it('receives RFC 4733 digits once each and sends its own', async () => {
    const { peer, stream } = await setup();
    const digits: string[] = [];
    stream.on('dtmf', (d) => digits.push(d.digit));
    await peer.digit('5');
    await peer.digit('#');
    await new Promise<void>((resolve) => stream.on('frame', () => digits.length >= 2 && resolve()));
    expect(digits).toEqual(['5', '#']);

    stream.sendDtmf('9');
    await peer.until(() => peer.received.filter((p) => p.payloadType === 101).length >= 7);
    const events = peer.received.filter((p) => p.payloadType === 101);
    expect(new Set(events.map((e) => e.timestamp)).size).toBe(1);
    expect(events.map((e) => decodeTelephoneEvent(e.payload).end)).toEqual([false, false, false, false, true, true, true]);
    expect(decodeTelephoneEvent((events[0] as (typeof events)[number]).payload).event).toBe(9);
  });

  // Found by `npm run fuzz` (rtp target): the RFC 4733 decoder's RtpError escaped the socket's
  // 'message' handler, an uncaught exception that ended the gateway on one datagram.
  it('ignores telephone-event packets too short to decode and goes on receiving digits', async () => {
    const escaped: unknown[] = [];
    const onEscape = (err: unknown) => escaped.push(err);
    process.on('uncaughtException', onEscape);
    try {
      const { peer, stream } = await setup();
      const digits: string[] = [];
      stream.on('dtmf', (d) => digits.push(d.digit));
      peer.sendPacket({ payloadType: 101, payload: new Uint8Array(0), timestamp: 1 });
      peer.sendPacket({ payloadType: 101, payload: Uint8Array.of(5, 0x80), timestamp: 2 });
      await peer.digit('7');
      await new Promise<void>((resolve) => stream.on('frame', () => digits.length >= 1 && resolve()));
      expect(digits).toEqual(['7']);
      expect(escaped).toEqual([]);
    } finally {
      process.off('uncaughtException', onEscape);
    }
  });

  it('sends RTCP sender reports to the port above the peer with a block about its stream', async () => {
    const { peer, stream } = await setup({ rtcpIntervalMs: 100 });
    for (const f of peer.frames(tone(1000, 8000, 800))) peer.sendPacket(f);
    stream.play(tone(440, 8000, 800));
    await peer.until(() => peer.rtcp.some((r) => r.type === 'sr' && r.reports.length === 1 && r.packetCount > 0));
    const sr = peer.rtcp.find((r) => r.type === 'sr' && r.reports.length === 1);
    expect(sr?.reports[0]).toMatchObject({ ssrc: 0x5eed, cumulativeLost: 0 });
  });
});

describe('MediaStream latency on an injected clock (real UDP, time stands still unless the test moves it)', () => {
  async function manual() {
    const clock = new ManualClock(0);
    const s = await setup({ clock });
    return { clock, ...s };
  }

  it('hands caller frames up the moment their packets arrive in order, with no tick in between', async () => {
    const { peer, stream } = await manual();
    const got: Int16Array[] = [];
    stream.on('frame', (pcm) => got.push(pcm));
    for (const f of peer.frames(tone(1000, 8000, 480))) peer.sendPacket(f);
    await new Promise<void>((resolve) => stream.on('frame', () => got.length >= 3 && resolve()));
    expect(got.every((f) => f.some((x) => x !== 0))).toBe(true);
  });

  it('sends the first frame of a reply at once and paces the rest from it, with timestamps from the sampling instant', async () => {
    const { clock, peer, stream } = await manual();
    clock.advance(20); // one tick: nothing to send
    clock.advance(7);
    stream.play(tone(440, 8000, 800)); // 5 frames, queued 7 ms after the tick
    await peer.until(() => peer.received.length >= 1);
    expect(peer.received[0]?.marker).toBe(true);
    clock.advance(19); // 46: the old schedule's tick (40) is gone, the next is at 47
    expect(peer.received).toHaveLength(1);
    clock.advance(1);
    await peer.until(() => peer.received.length >= 2);
    const [a, b] = peer.received;
    expect(((b?.timestamp as number) - (a?.timestamp as number)) >>> 0).toBe(160);
    expect(b?.marker).toBe(false);
    clock.advance(60);
    await peer.until(() => peer.received.length >= 5);
  });
});
