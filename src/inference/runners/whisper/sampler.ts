import { mulberry32 } from '../../random.ts';
import { applySuppression, argmax, bestSample, logProbOf, pick } from './logits.ts';
import { TIME_PRECISION_S } from './longform.ts';
import type { WhisperTokens } from './tokens.ts';
import type { TokenTime } from './words.ts';

/*
 * The token loop of one window decode, over any source of logits: greedy at temperature 0,
 * else best_of samples ranked as the reference's MaximumLikelihoodRanker does. Log-probs are
 * read after the timestamp rules, and the end-of-text token's counts, as in the reference.
 */

/**
 * Logits of the next token of each row: called first with the prompt alone (one row), then with
 * one token per sample (every sample's row, finished ones fed end-of-text, as the reference does).
 */
export type NextLogits = (inputs: readonly (readonly number[])[]) => Promise<Float32Array[]>;

export interface SampledSequence {
  /** Generated tokens, end-of-text excluded. */
  tokens: number[];
  /** What the timestamp tokens said at each generated token (when asked for). */
  times: (TokenTime | undefined)[];
  /** Log-probs of the generated tokens and of the end-of-text token when one was drawn. */
  sumLogprob: number;
}

export interface SampleOptions {
  tokens: WhisperTokens;
  maxNew: number;
  temperature: number;
  /** Samples to draw at a temperature above 0 (the reference's best_of); 1 at temperature 0. */
  bestOf: number;
  seed: number;
  readTimes: boolean;
}

/** Decodes a window: one greedy pass, or `bestOf` draws at a temperature and the best-ranked one. */
export async function sampleWindow(next: NextLogits, prompt: readonly number[], o: SampleOptions): Promise<SampledSequence> {
  const { tokens } = o;
  const draws = o.temperature > 0 ? Math.max(1, o.bestOf) : 1;
  const random = mulberry32(o.seed);
  const samples = Array.from({ length: draws }, (): SampledSequence & { done: boolean } => ({ tokens: [], times: [], sumLogprob: 0, done: false }));
  let rows = await next([prompt]);
  for (let i = 0; i < o.maxNew; i++) {
    samples.forEach((s, g) => {
      if (s.done) return;
      // The prompt's one row serves every sample's first draw.
      const logits = rows.length === 1 ? Float32Array.from(rows[0] as Float32Array) : (rows[g] as Float32Array);
      // Read before suppression rewrites the row: what the model itself thinks the time is.
      const reading = o.readTimes ? timestampReading(logits, tokens.timestampBegin) : undefined;
      applySuppression(logits, tokens, s.tokens, true);
      const token = pick(logits, o.temperature, random);
      s.sumLogprob += logProbOf(logits, token);
      if (token === tokens.eot) {
        s.done = true;
        return;
      }
      s.tokens.push(token);
      s.times.push(reading);
    });
    if (samples.every((s) => s.done) || i === o.maxNew - 1) break;
    rows = await next(samples.map((s) => [s.done ? tokens.eot : (s.tokens[s.tokens.length - 1] as number)]));
  }
  const best = samples[bestSample(samples.map((s) => ({ sumLogprob: s.sumLogprob, length: s.tokens.length })))] as SampledSequence;
  return { tokens: best.tokens, times: best.times, sumLogprob: best.sumLogprob };
}

/** sum_logprob / (tokens + 1): the reference's average, the end-of-text token counted. */
export const averageLogprob = (s: SampledSequence): number => s.sumLogprob / (s.tokens.length + 1);

/** The most probable timestamp token at this step and its probability over the whole vocabulary. */
function timestampReading(logits: Float32Array, timestampBegin: number): TokenTime {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  const best = argmax(logits, timestampBegin);
  return { t: (best - timestampBegin) * TIME_PRECISION_S, p: Math.exp((logits[best] as number) - max) / sum };
}
