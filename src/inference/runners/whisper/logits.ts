import type { WhisperTokens } from './tokens.ts';

/*
 * Logit rules applied before each pick, as the reference decoder does: suppressed tokens,
 * blank and end-of-text at the start, and the timestamp grammar (pairs, never decreasing,
 * a bounded first timestamp, timestamps forced when they are likelier than any text).
 */

export function applySuppression(logits: Float32Array, tokens: WhisperTokens, generated: readonly number[], timestamps: boolean): void {
  for (const t of tokens.suppress) if (t < logits.length) logits[t] = -Infinity;
  if (generated.length === 0) for (const t of tokens.beginSuppress) if (t < logits.length) logits[t] = -Infinity;
  logits[tokens.noTimestamps] = -Infinity;
  if (!timestamps) {
    for (let t = tokens.timestampBegin; t < logits.length; t++) logits[t] = -Infinity;
    return;
  }
  const tb = tokens.timestampBegin;
  const n = generated.length;
  const last = n >= 1 && (generated[n - 1] as number) >= tb;
  const penultimate = n < 2 || (generated[n - 2] as number) >= tb;
  if (last) {
    if (penultimate) for (let t = tb; t < logits.length; t++) logits[t] = -Infinity;
    else for (let t = 0; t < tokens.eot; t++) logits[t] = -Infinity;
  }
  const stamps = generated.filter((t) => t >= tb);
  if (stamps.length > 0) {
    const lastStamp = stamps[stamps.length - 1] as number;
    const floor = last && !penultimate ? lastStamp : lastStamp + 1;
    for (let t = tb; t < floor && t < logits.length; t++) logits[t] = -Infinity;
  }
  if (n === 0) {
    for (let t = 0; t < tb; t++) logits[t] = -Infinity;
    for (let t = tb + tokens.maxInitialTimestampIndex + 1; t < logits.length; t++) logits[t] = -Infinity;
  }
  // Timestamps win when their total probability beats the likeliest text token. Both sides of
  // the reference's comparison are log-softmax values, whose shared normaliser cancels: the raw
  // logits compare the same without a pass over the whole vocabulary.
  let maxText = -Infinity;
  for (let t = 0; t < tb; t++) if ((logits[t] as number) > maxText) maxText = logits[t] as number;
  let tsMax = -Infinity;
  for (let t = tb; t < logits.length; t++) if ((logits[t] as number) > tsMax) tsMax = logits[t] as number;
  if (tsMax === -Infinity) return;
  let tsSum = 0;
  for (let t = tb; t < logits.length; t++) tsSum += Math.exp((logits[t] as number) - tsMax);
  if (tsMax + Math.log(tsSum) > maxText) for (let t = 0; t < tb; t++) logits[t] = -Infinity;
}

/** log softmax(logits)[index], without materialising the whole distribution. */
export function logProbOf(logits: Float32Array, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > max) max = logits[i] as number;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  return (logits[index] as number) - max - Math.log(sum);
}

export function argmax(values: ArrayLike<number>, from = 0, to = values.length): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** pick's weights, reused: one vocabulary-sized buffer per thread instead of one per draw. */
let scratch = new Float64Array(0);

/** Greedy at temperature 0, else a draw from softmax(logits / T). */
export function pick(logits: Float32Array, temperature: number, random: () => number): number {
  if (temperature <= 0) return argmax(logits);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > max) max = logits[i] as number;
  if (scratch.length < logits.length) scratch = new Float64Array(logits.length);
  const weights = scratch;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp(((logits[i] as number) - max) / temperature);
    weights[i] = w;
    sum += w;
  }
  let r = random() * sum;
  for (let i = 0; i < logits.length; i++) {
    r -= weights[i] as number;
    if (r <= 0) return i;
  }
  return argmax(logits);
}

/** One sampled sequence: its summed log-probability (end-of-text included) and token count (without it). */
export interface Sample {
  sumLogprob: number;
  length: number;
}

/**
 * The reference's MaximumLikelihoodRanker: the sample with the best sumLogprob / penalty, the
 * penalty being the length, or ((5 + length) / 6) ** lengthPenalty (Google NMT) when given.
 */
export function bestSample(samples: readonly Sample[], lengthPenalty: number | null = null): number {
  let best = 0;
  let bestScore = -Infinity;
  samples.forEach((s, i) => {
    const penalty = lengthPenalty === null ? s.length : ((5 + s.length) / 6) ** lengthPenalty;
    const score = s.sumLogprob / penalty;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}
