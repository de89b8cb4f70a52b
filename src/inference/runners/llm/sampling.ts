/** Token selection from one row of logits: greedy or sampled, with the usual OpenAI/HF knobs. */
import { mulberry32 } from '../../random.ts';

export interface SamplingParams {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Nucleus mass kept, (0, 1]. */
  topP: number;
  /** Candidates kept, 0 = all. */
  topK: number;
  /** HF-style: logits of tokens already in the sequence are divided (positive) or multiplied (negative) by it; 1 = off. */
  repetitionPenalty: number;
}

export const GREEDY: SamplingParams = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };

/** Candidates a nucleus is drawn from when no top_k is given (an exact nucleus almost always fits). */
const NUCLEUS_POOL = 1024;

/** A seeded PRNG (mulberry32): the same seed gives the same tokens. */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(seed: number = Math.floor(Math.random() * 2 ** 32)) {
    this.next = mulberry32(seed);
  }
}

/** Applies the repetition penalty in place to the logits of `seen` tokens. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const t of seen) {
    const l = logits[t];
    if (l === undefined) continue;
    logits[t] = l > 0 ? l / penalty : l * penalty;
  }
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const l = logits[i] as number;
    if (l > max) {
      max = l;
      best = i;
    }
  }
  return best;
}

/** Indices of the k largest logits, largest first (quickselect for the threshold, then a sort of k). */
export function topIndices(logits: Float32Array, k: number): Int32Array {
  const n = logits.length;
  const want = Math.min(k, n);
  if (want <= 0) return new Int32Array(0);
  const threshold = kthLargest(Float32Array.from(logits), want);
  const idx = new Int32Array(want);
  let filled = 0;
  for (let i = 0; i < n && filled < want; i++) if ((logits[i] as number) > threshold) idx[filled++] = i;
  for (let i = 0; i < n && filled < want; i++) if (logits[i] === threshold) idx[filled++] = i;
  return idx.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
}

/** The k-th largest value (1-based) of `a`, which is reordered. */
function kthLargest(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) > pivot) i++;
      while ((a[j] as number) < pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target] as number;
  }
  return a[target] as number;
}

/**
 * Picks the next token. `logits` may be modified (penalty applied in place); `seen` are the
 * tokens the penalty applies to (prompt and generated so far).
 */
export function sampleToken(logits: Float32Array, params: SamplingParams, rng: Rng, seen: Iterable<number> = []): number {
  applyRepetitionPenalty(logits, seen, params.repetitionPenalty);
  if (params.temperature <= 0 || params.topK === 1) return argmax(logits);
  const k = params.topK > 0 ? params.topK : params.topP < 1 ? NUCLEUS_POOL : logits.length;
  const candidates = k >= logits.length ? null : topIndices(logits, k);
  const count = candidates ? candidates.length : logits.length;
  const at = (i: number) => (candidates ? (candidates[i] as number) : i);
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, logits[at(i)] as number);
  const probs = new Float64Array(count);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const p = Math.exp(((logits[at(i)] as number) - max) / params.temperature);
    probs[i] = p;
    sum += p;
  }
  if (params.topP < 1) {
    // Candidates are sorted when they were selected; otherwise sort now (small vocabularies only).
    const order = candidates ? null : Array.from({ length: count }, (_, i) => i).sort((a, b) => (probs[b] as number) - (probs[a] as number));
    let mass = 0;
    const kept = new Float64Array(count);
    for (let r = 0; r < count; r++) {
      const i = order ? (order[r] as number) : r;
      kept[i] = probs[i] as number;
      mass += (probs[i] as number) / sum;
      if (mass >= params.topP) break;
    }
    probs.set(kept);
  }
  let total = 0;
  for (let i = 0; i < count; i++) total += probs[i] as number;
  let u = rng.next() * total;
  for (let i = 0; i < count; i++) {
    u -= probs[i] as number;
    if (u < 0 && (probs[i] as number) > 0) return at(i);
  }
  // Rounding left u just above zero: the last kept candidate.
  for (let i = count - 1; i >= 0; i--) if ((probs[i] as number) > 0) return at(i);
  return at(0);
}
