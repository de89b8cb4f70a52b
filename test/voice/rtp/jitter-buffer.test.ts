import { describe, expect, it } from 'vitest';
import { JitterBuffer, type JitterOutput } from '../../../src/voice/rtp/jitter-buffer.ts';

const payload = (seq: number) => Uint8Array.of(seq & 0xff);
const opts = { minDelayMs: 10, maxDelayMs: 200, maxDepth: 10 };
const show = (out: JitterOutput[]) => out.map((f) => (f.kind === 'audio' ? (f.payload[0] as number) : f.kind));

/** A caller sending 20 ms frames: frame i (RTP timestamp 160·i) arrives at 1000 + 20·i + late(i). */
function stream(jb: JitterBuffer, seqs: number[], late: (i: number) => number = () => 0): Array<string | number> {
  return seqs.flatMap((seq) => show(jb.push(seq, seq * 160, payload(seq), 1000 + seq * 20 + late(seq))));
}

describe('JitterBuffer (reordering only, adaptive delay)', () => {
  it('releases each packet the moment it arrives in sequence: no playout wait', () => {
    const jb = new JitterBuffer(opts);
    expect(show(jb.push(10, 1600, payload(10), 5000))).toEqual([10]);
    expect(show(jb.push(11, 1760, payload(11), 5020))).toEqual([11]);
    expect(jb.depth).toBe(0);
  });

  it('holds packets behind a missing one and releases them all when it arrives', () => {
    const jb = new JitterBuffer(opts);
    expect(stream(jb, [0, 1, 3])).toEqual([0, 1]);
    expect(jb.push(4, 640, payload(4), 1065)).toEqual([]);
    expect(jb.depth).toBe(2);
    expect(show(jb.push(2, 320, payload(2), 1066))).toEqual([2, 3, 4]);
    expect(jb.stats).toMatchObject({ received: 5, concealed: 0, late: 0 });
  });

  it('gives a missing packet up (lost, timestamp interpolated) at its deadline, and drops it when it comes later', () => {
    const jb = new JitterBuffer(opts);
    stream(jb, [0, 1, 3]);
    // Frame 2 was expected at 1040 and found missing at 1060; the delay is the 10 ms floor.
    const deadline = jb.nextDeadline() as number;
    expect(deadline).toBe(1070);
    expect(jb.due(deadline - 1)).toEqual([]);
    expect(show(jb.due(deadline))).toEqual(['lost', 3]);
    // A packet arriving after its deadline does not wait: the gap is already given up.
    expect(show(jb.push(4, 640, payload(4), 1080))).toEqual([4]);
    expect(jb.push(2, 320, payload(2), 1200)).toEqual([]);
    expect(jb.stats).toMatchObject({ concealed: 1, late: 1, received: 4 });
    const burst = new JitterBuffer(opts);
    stream(burst, [0, 1, 3]);
    expect(show(burst.push(4, 640, payload(4), 1080))).toEqual(['lost', 3, 4]);
  });

  it('interpolates the lost frame timestamp', () => {
    const jb = new JitterBuffer(opts);
    stream(jb, [0, 2]);
    const lost = jb.due(2000).find((f) => f.kind === 'lost');
    expect(lost).toMatchObject({ sequence: 1, timestamp: 160 });
  });

  it('keeps the timeline moving with idle frames every 20 ms once the caller stops sending', () => {
    const jb = new JitterBuffer(opts);
    stream(jb, [0, 1, 2]); // last packet at 1040
    const at: number[] = [];
    while (at.length < 5) {
      const now = jb.nextDeadline() as number;
      for (const f of jb.due(now)) if (f.kind === 'idle') at.push(Math.round(now));
    }
    // Frame 3 was expected at 1060; idle at its deadline (+10 ms), then one per frame.
    expect(at).toEqual([1070, 1090, 1110, 1130, 1150]);
    // The caller speaks again: its packet is released at once.
    expect(show(jb.push(3, 160 * 20, payload(3), 1400))).toEqual([3]);
  });

  it('adapts its delay to measured lateness: a loopback peer stays at the floor, a jittery one waits longer', () => {
    const steady = new JitterBuffer(opts);
    stream(steady, Array.from({ length: 200 }, (_, i) => i), () => 0.3);
    expect(steady.delayMs).toBe(10);

    const jittery = new JitterBuffer(opts);
    // Every fourth packet 45 ms late, the rest on time.
    stream(jittery, Array.from({ length: 200 }, (_, i) => i), (i) => (i % 4 === 0 ? 45 : 0));
    expect(jittery.delayMs).toBeGreaterThanOrEqual(44);
    expect(jittery.delayMs).toBeLessThanOrEqual(46);

    const wild = new JitterBuffer({ ...opts, maxDelayMs: 60 });
    stream(wild, Array.from({ length: 200 }, (_, i) => i), (i) => (i % 3 === 0 ? 150 : 0));
    expect(wild.delayMs).toBe(60);
  });

  it('waits the delay for a reordered packet even when the sender bursts (packets early)', () => {
    const jb = new JitterBuffer(opts);
    // 20 frames sent at once: 5 and 6 swapped.
    const order = [0, 1, 2, 3, 4, 6, 5, 7, 8, 9];
    const out = order.flatMap((seq) => show(jb.push(seq, seq * 160, payload(seq), 1000)));
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(jb.stats.concealed).toBe(0);
  });

  it('gives the gap up at once when more than maxDepth packets wait behind it', () => {
    const jb = new JitterBuffer({ ...opts, maxDepth: 3 });
    const at = (seq: number) => show(jb.push(seq, seq * 160, payload(seq), 1000));
    [0, 2, 3, 4].forEach(at);
    expect(jb.depth).toBe(3);
    expect(at(5)).toEqual(['lost', 2, 3, 4, 5]);
  });

  it('jumps over a sequence jump larger than maxDepth instead of concealing it frame by frame', () => {
    const jb = new JitterBuffer({ ...opts, maxDepth: 3 });
    stream(jb, [0, 1]);
    const out = [500, 501, 502, 503].flatMap((seq) => show(jb.push(seq, seq * 160, payload(seq), 1000 + seq * 20)));
    expect(out).toEqual([500 & 0xff, 501 & 0xff, 502 & 0xff, 503 & 0xff]);
    expect(jb.stats.skipped).toBe(498);
    expect(jb.stats.concealed).toBe(0);
  });

  it('ignores duplicates of held packets and counts packets behind the play point as late', () => {
    const jb = new JitterBuffer(opts);
    stream(jb, [0, 2]);
    expect(jb.push(2, 320, payload(2), 1041)).toEqual([]);
    expect(jb.push(0, 0, payload(0), 1042)).toEqual([]);
    expect(jb.stats).toMatchObject({ duplicate: 1, late: 1 });
  });

  it('works across the 16-bit sequence wrap', () => {
    const jb = new JitterBuffer(opts);
    const out = [65534, 65535, 1, 0].flatMap((seq, i) => show(jb.push(seq, i * 160, payload(seq), 1000 + i * 20)));
    expect(out).toEqual([254, 255, 0, 1]);
  });

  it('re-syncs its timeline when the sender restarts its RTP clock', () => {
    const jb = new JitterBuffer(opts);
    stream(jb, [0, 1, 2]);
    expect(show(jb.push(3, 0x7000_0000, payload(3), 1061))).toEqual([3]);
    // The next idle deadline follows the new clock, not a burst for the jump.
    expect(jb.nextDeadline()).toBeGreaterThan(1061);
    expect(jb.due(1075)).toEqual([]);
  });
});

// Found by `npm run fuzz -- --target live-rtp`: packets one sample apart taught the buffer a
// 0.125 ms frame, and the next idle deadline released millions of frames at once (4 GB, OOM).
describe('JitterBuffer bounds what one call releases', () => {
  it('does not learn a frame length from timestamps a sample apart, and releases at most 50 idle frames (1 s) after a stall', () => {
    const jb = new JitterBuffer(opts);
    jb.push(1, 0, payload(1), 0);
    jb.push(2, 1, payload(2), 0); // one sample later
    const out = jb.due(100_000);
    expect(out.length).toBeLessThanOrEqual(50);
    expect(out.every((f) => f.kind === 'idle')).toBe(true);
    // The timeline jumped to now: the next idle frame is one 20 ms frame away.
    expect(jb.nextDeadline()).toBeGreaterThan(100_000);
    expect(jb.nextDeadline()).toBeLessThanOrEqual(100_020 + opts.maxDelayMs);
    expect(jb.stats.skipped).toBeGreaterThan(4000);
  });

  it('a 60 s stall of an ordinary 20 ms stream gives 1 s of idle frames, not 60 s', () => {
    const jb = new JitterBuffer(opts);
    for (let i = 0; i < 10; i++) jb.push(i, i * 160, payload(i), i * 20);
    const out = jb.due(60_000);
    expect(out).toHaveLength(50);
    expect(jb.due(60_000)).toEqual([]);
  });
});

