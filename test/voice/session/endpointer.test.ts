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

describe('Endpointer on overlapping windows (VAD every 20 ms frame on the newest 32 ms)', () => {
  const frames = (e: Endpointer, probs: number[]) => probs.map((p) => e.feed(p, 20, 32));

  it('ends the utterance on the frame that completes the silence, not a window later', () => {
    const e = new Endpointer({ ...opts, silenceMs: 300 });
    expect(frames(e, [0.9, 0.9, 0.9, 0.9]).filter(Boolean)).toEqual([]); // 32 + 3 × 20 = 92 < 96
    expect(frames(e, [0.9])).toEqual(['speech-start']);
    // The first silent window covers 32 ms, each later one 20 ms more: 32 + 13 × 20 = 292 < 300.
    expect(frames(e, Array(14).fill(0.1)).filter(Boolean)).toEqual([]);
    expect(frames(e, [0.1])).toEqual(['speech-end']); // 312 ms: the 15th silent frame
  });

  it('counts audio time by frames, so a hop of 20 ms and a window of 32 ms give the same time base', () => {
    const e = new Endpointer(opts);
    frames(e, Array(10).fill(0.9));
    expect(e.elapsedMs).toBe(200);
  });
});
