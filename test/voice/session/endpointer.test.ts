import { describe, expect, it } from 'vitest';
import { Endpointer } from '../../../src/voice/session/endpointer.ts';

const opts = { startThreshold: 0.5, endThreshold: 0.35, minSpeechMs: 96, silenceMs: 480 };
const feed = (e: Endpointer, probs: number[]) => probs.map((p) => e.feed(p, 32)).filter((x) => x !== null);

describe('Endpointer', () => {
  it('starts an utterance after minSpeechMs of speech and ends it after silenceMs of silence', () => {
    const e = new Endpointer(opts);
    expect(feed(e, [0.9, 0.9])).toEqual([]);
    expect(feed(e, [0.9])).toEqual(['speech-start']); // 96 ms
    expect(feed(e, Array(14).fill(0.1))).toEqual([]); // 448 ms of silence
    expect(feed(e, [0.1])).toEqual(['speech-end']); // 480 ms
    expect(e.lastSpeechEndMs).toBe(3 * 32);
  });

  it('ignores blips shorter than minSpeechMs', () => {
    const e = new Endpointer(opts);
    expect(feed(e, [0.9, 0.9, 0.1, 0.9, 0.9, 0.1])).toEqual([]);
  });

  it('keeps the utterance through a pause shorter than silenceMs, and in the hysteresis band', () => {
    const e = new Endpointer(opts);
    expect(feed(e, [0.9, 0.9, 0.9, ...Array(10).fill(0.1), 0.9, ...Array(20).fill(0.4)])).toEqual(['speech-start']);
    expect(feed(e, Array(15).fill(0.1))).toEqual(['speech-end']);
  });
});
