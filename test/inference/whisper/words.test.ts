import { describe, expect, it } from 'vitest';
import { segmentWords, type TokenTime } from '../../../src/inference/runners/whisper/words.ts';

// A toy byte-level vocabulary: ids < 100 are text pieces, 100+ are timestamps. 7 and 8 are the
// two UTF-8 halves of "é" (a character split across tokens, as BPE does with CJK).
const PIECES: Record<number, number[]> = {
  1: [...Buffer.from(' Hello')],
  2: [...Buffer.from(',')],
  3: [...Buffer.from(' wor')],
  4: [...Buffer.from('ld')],
  5: [...Buffer.from(' caf')],
  7: [0xc3],
  8: [0xa9],
  9: [...Buffer.from('!')],
  10: [...Buffer.from('你')],
  11: [...Buffer.from('好')],
};
const decode = (ids: number[]) => new TextDecoder().decode(new Uint8Array(ids.flatMap((id) => PIECES[id] ?? [])));
const isText = (t: number) => t < 100;
const at = (t: number, p = 0.5): TokenTime => ({ t, p });

describe('word timestamps from timestamp-token readings', () => {
  it('joins subwords and punctuation into words, keeps whole characters, and anchors confident times', () => {
    const tokens = [100, 1, 2, 3, 4, 5, 7, 8, 9, 150];
    const times = [undefined, at(0), at(0.2), at(0.5), at(0.6), at(1.2), at(1.3), at(1.4), at(1.5), undefined];
    const words = segmentWords(tokens, times, isText, { startS: 0, endS: 2 }, decode, 'en');
    expect(words).toEqual([
      { word: 'Hello,', startS: 0, endS: 0.5 },
      { word: 'world', startS: 0.5, endS: 1.2 },
      { word: 'café!', startS: 1.2, endS: 2 },
    ]);
  });

  it('spreads unconfident, out-of-order or out-of-segment readings by word length, in order, inside the segment', () => {
    const tokens = [1, 3, 4, 5, 7, 8];
    // " world" is unsure, " café" claims a time before the segment starts.
    const times = [at(9), at(3.4, 0.001), at(3.5, 0.001), at(0.5), at(0.6), at(0.7)];
    const words = segmentWords(tokens, times, isText, { startS: 1, endS: 4 }, decode, 'en');
    expect(words.map((w) => w.word)).toEqual(['Hello', 'world', 'café']);
    expect(words[0]!.startS).toBe(1);
    expect(words.at(-1)!.endS).toBe(4);
    for (let i = 1; i < words.length; i++) {
      expect(words[i]!.startS).toBeGreaterThan(words[i - 1]!.startS);
      expect(words[i]!.startS).toBe(words[i - 1]!.endS);
    }
    // Lengths 5, 5, 4 share the 3 s: the second word starts 5/14 of the way in.
    expect(words[1]!.startS).toBeCloseTo(1 + (3 * 5) / 14, 6);
  });

  it('makes every character a word in languages written without spaces', () => {
    const words = segmentWords([10, 11], [at(0.1), at(0.4)], isText, { startS: 0, endS: 1 }, decode, 'zh');
    expect(words).toEqual([
      { word: '你', startS: 0, endS: 0.4 },
      { word: '好', startS: 0.4, endS: 1 },
    ]);
  });

  it('gives no words for a segment without text', () => {
    expect(segmentWords([100, 150], [undefined, undefined], isText, { startS: 0, endS: 1 }, decode, 'en')).toEqual([]);
  });
});
