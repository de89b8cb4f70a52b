import { describe, expect, it } from 'vitest';
import { bestSample } from '../../../src/inference/runners/whisper/logits.ts';
import { averageLogprob, sampleWindow, type NextLogits, type SampleOptions } from '../../../src/inference/runners/whisper/sampler.ts';
import type { WhisperTokens } from '../../../src/inference/runners/whisper/tokens.ts';

/*
 * The window decoder's token loop over scripted logits (no model): a vocabulary of words 0-9,
 * end-of-text 10, the specials 11-16 and timestamps from 17.
 */

const tokens: WhisperTokens = {
  eot: 10,
  sot: 11,
  transcribe: 12,
  translate: 13,
  startOfPrev: 14,
  noSpeech: 15,
  noTimestamps: 16,
  timestampBegin: 17,
  languages: new Map(),
  suppress: [],
  beginSuppress: [],
  maxInitialTimestampIndex: 5,
  vocabSize: 40,
};
const VERY_UNLIKELY = -1e4;

/** Logits with the given values set and every other token very unlikely. */
function logits(values: Record<number, number>): Float32Array {
  const row = new Float32Array(tokens.vocabSize).fill(VERY_UNLIKELY);
  for (const [t, v] of Object.entries(values)) row[Number(t)] = v;
  return row;
}

const logSoftmaxAt = (values: number[], i: number) => (values[i] as number) - Math.log(values.reduce((a, v) => a + Math.exp(v), 0));

/** A scripted model: the next logits depend only on the row's tokens so far. */
function scripted(next: (history: number[]) => Float32Array): { fn: NextLogits; calls: number[] } {
  const calls: number[] = [];
  let histories: number[][] = [];
  const fn: NextLogits = async (inputs) => {
    calls.push(inputs.length);
    histories = inputs.length === 1 && histories.length === 0 ? [[]] : inputs.map((input, g) => [...(histories[g] ?? histories[0] ?? []), ...input]);
    return histories.map((h) => next(h));
  };
  return { fn, calls };
}

const base: SampleOptions = { tokens, maxNew: 20, temperature: 0, bestOf: 5, seed: 1, readTimes: false };

describe('Whisper window sampling', () => {
  it('counts the end-of-text token in avg_logprob: sum of every log-prob / (tokens + 1)', async () => {
    const { fn } = scripted((h) => {
      if (h.length === 0) return logits({ 17: 0 }); // <|0.00|>
      if (h.length === 1) return logits({ 1: 2, 2: 1, 10: 0 }); // "1" likeliest
      return logits({ 10: 1, 3: 0, 4: 0 }); // end of text likeliest
    });
    const s = await sampleWindow(fn, [11], base);
    expect(s.tokens).toEqual([17, 1]);
    const expected = 0 + logSoftmaxAt([2, 1, 0], 0) + logSoftmaxAt([1, 0, 0], 0);
    expect(s.sumLogprob).toBeCloseTo(expected, 4);
    expect(averageLogprob(s)).toBeCloseTo(expected / 3, 4);
  });

  it('draws once at temperature 0', async () => {
    const { fn, calls } = scripted((h) => (h.length === 0 ? logits({ 17: 0 }) : logits({ 1: 0, 10: 1 })));
    await sampleWindow(fn, [11], base);
    expect(calls).toEqual([1, 1]);
  });

  it('draws best_of samples at a temperature and keeps the best by sum log-prob / length', async () => {
    // After <|0.00|>: "1" or "2" alike; after "1" the end is sure, after "2" it is a coin toss.
    const model = (h: number[]) => {
      if (h.length === 0) return logits({ 17: 0 });
      if (h.length === 1) return logits({ 1: 0, 2: 0 });
      if (h[1] === 1) return logits({ 10: 8 });
      return h.length === 2 ? logits({ 10: 0, 3: 0 }) : logits({ 10: 8 });
    };
    let improved = 0;
    for (let seed = 0; seed < 12; seed++) {
      const one = await sampleWindow(scripted(model).fn, [11], { ...base, temperature: 1, bestOf: 1, seed });
      const run = scripted(model);
      const five = await sampleWindow(run.fn, [11], { ...base, temperature: 1, bestOf: 5, seed });
      // All five step together: the prompt once, then rows of five.
      expect(run.calls[0]).toBe(1);
      expect(run.calls.slice(1).every((n) => n === 5)).toBe(true);
      // The first draw of five is the single draw: five can only do as well or better.
      const score = (s: typeof one) => s.sumLogprob / s.tokens.length;
      expect(score(five)).toBeGreaterThanOrEqual(score(one) - 1e-9);
      expect(five.tokens.slice(0, 2)).toEqual([17, 1]);
      if (score(five) > score(one) + 1e-9) improved++;
    }
    expect(improved).toBeGreaterThan(0);
  });

  it('ranks as the reference MaximumLikelihoodRanker: by sum / length, or the NMT length penalty', () => {
    const samples = [
      { sumLogprob: -3, length: 2 }, // -1.5 per token
      { sumLogprob: -4, length: 4 }, // -1 per token: best by length
    ];
    expect(bestSample(samples)).toBe(1);
    // ((5 + n) / 6) ** 0: no length normalisation, the higher sum wins.
    expect(bestSample(samples, 0)).toBe(0);
  });
});
