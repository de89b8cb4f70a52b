import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../../src/voice/rtp/jitter-buffer.ts';

const payload = (seq: number) => Uint8Array.of(seq & 0xff);
const drain = (jb: JitterBuffer, n: number) => Array.from({ length: n }, () => jb.pop()).map((f) => (f ? (f.payload ? f.payload[0] : 'lost') : 'none'));

describe('JitterBuffer', () => {
  it('holds targetDepth frames before playout, then yields them in order', () => {
    const jb = new JitterBuffer({ targetDepth: 3, maxDepth: 10 });
    jb.push(10, 1600, payload(10));
    expect(jb.pop()).toBeUndefined();
    jb.push(11, 1760, payload(11));
    jb.push(12, 1920, payload(12));
    expect(drain(jb, 3)).toEqual([10, 11, 12]);
  });

  it('reorders packets that arrive out of order, including one earlier than the first', () => {
    const jb = new JitterBuffer({ targetDepth: 4, maxDepth: 10 });
    for (const seq of [101, 103, 100, 102]) jb.push(seq, seq * 160, payload(seq));
    expect(drain(jb, 4)).toEqual([100, 101, 102, 103]);
  });

  it('conceals a lost packet (null payload, timestamp interpolated) and drops it when it comes late', () => {
    const jb = new JitterBuffer({ targetDepth: 2, maxDepth: 10 });
    for (const seq of [1, 3, 4]) jb.push(seq, seq * 160, payload(seq));
    expect(jb.pop()?.sequence).toBe(1);
    expect(jb.pop()).toEqual({ sequence: 2, timestamp: 320, payload: null });
    jb.push(2, 320, payload(2)); // too late now
    expect(drain(jb, 2)).toEqual([3, 4]);
    expect(jb.stats).toMatchObject({ concealed: 1, late: 1, received: 3 });
  });

  it('ignores duplicates', () => {
    const jb = new JitterBuffer({ targetDepth: 1, maxDepth: 10 });
    jb.push(5, 800, payload(5));
    jb.push(5, 800, payload(5));
    expect(drain(jb, 2)).toEqual([5, 'none']);
    expect(jb.stats.duplicate).toBe(1);
  });

  it('counts an underrun and primes again to targetDepth', () => {
    const jb = new JitterBuffer({ targetDepth: 2, maxDepth: 10 });
    jb.push(1, 160, payload(1));
    jb.push(2, 320, payload(2));
    expect(drain(jb, 3)).toEqual([1, 2, 'none']);
    jb.push(3, 480, payload(3));
    expect(jb.pop()).toBeUndefined();
    jb.push(4, 640, payload(4));
    expect(drain(jb, 2)).toEqual([3, 4]);
    expect(jb.stats.underruns).toBe(1);
  });

  it('works across the 16-bit sequence wrap', () => {
    const jb = new JitterBuffer({ targetDepth: 3, maxDepth: 10 });
    for (const seq of [65535, 1, 0]) jb.push(seq, 0, payload(seq));
    expect(drain(jb, 3)).toEqual([255, 0, 1]);
  });

  it('skips the oldest frames past maxDepth so latency stays bounded', () => {
    const jb = new JitterBuffer({ targetDepth: 2, maxDepth: 4 });
    for (let seq = 1; seq <= 6; seq++) jb.push(seq, seq * 160, payload(seq));
    expect(jb.depth).toBe(4);
    expect(drain(jb, 4)).toEqual([3, 4, 5, 6]);
    expect(jb.stats.skipped).toBe(2);
  });
});
