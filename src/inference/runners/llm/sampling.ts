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

/** Candidates a nucleus is first looked for in when no top_k is given (it almost always fits). */
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
  const threshold = kthLargest(logits, want);
  const idx = new Int32Array(want);
  let filled = 0;
  for (let i = 0; i < n && filled < want; i++) if ((logits[i] as number) > threshold) idx[filled++] = i;
  for (let i = 0; i < n && filled < want; i++) if (logits[i] === threshold) idx[filled++] = i;
  return idx.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
}

/**
 * The k-th largest value (1-based) of `a`: a min-heap of the k largest seen so far. Most values
 * of a logits row fall below the heap's minimum and cost one comparison.
 */
function kthLargest(a: Float32Array, k: number): number {
  const heap = a.slice(0, k);
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(heap, i);
  for (let i = k; i < a.length; i++) {
    const v = a[i] as number;
    if (v > (heap[0] as number)) {
      heap[0] = v;
      siftDown(heap, 0);
    }
  }
  return heap[0] as number;
}

function siftDown(heap: Float32Array, from: number): void {
  const n = heap.length;
  let i = from;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    const r = l + 1;
    const c = r < n && (heap[r] as number) < (heap[l] as number) ? r : l;
    if ((heap[c] as number) >= (heap[i] as number)) return;
    const t = heap[i] as number;
    heap[i] = heap[c] as number;
    heap[c] = t;
    i = c;
  }
}

/**
 * Picks the next token. `logits` may be modified (penalty applied in place); `seen` are the
 * tokens the penalty applies to (prompt and generated so far).
 *
 * top_k then top_p, as transformers' warpers: with top_k the nucleus is taken within the
 * top_k renormalised. Without top_k the nucleus is exact over the whole vocabulary: it is
 * looked for among the NUCLEUS_POOL largest logits, measured against the full softmax sum,
 * and when those hold less than top_p of the mass the pool is widened (×4) until they do.
 */
export function sampleToken(logits: Float32Array, params: SamplingParams, rng: Rng, seen: Iterable<number> = []): number {
  applyRepetitionPenalty(logits, seen, params.repetitionPenalty);
  if (params.temperature <= 0 || params.topK === 1) return argmax(logits);
  const V = logits.length;
  const nucleus = params.topP < 1;
  const k = params.topK > 0 ? params.topK : nucleus ? NUCLEUS_POOL : V;
  // Sorted, largest first; null = every token in vocabulary order (no top_k, no top_p).
  let candidates = k >= V && !nucleus ? null : topIndices(logits, k);
  const max = logits[argmax(logits)] as number;
  const weight = (t: number) => Math.exp(((logits[t] as number) - max) / params.temperature);
  let probs = weigh(candidates, V, weight);
  if (nucleus) {
    let norm = probs.sum;
    if (params.topK <= 0 && candidates && candidates.length < V) {
      norm = 0;
      const T = params.temperature;
      for (let t = 0; t < V; t++) norm += Math.exp(((logits[t] as number) - max) / T);
      // A wide nucleus (Orpheus audio tokens: thousands of near-equal logits): widen the pool.
      while (probs.sum / norm < params.topP && candidates.length < V) {
        candidates = topIndices(logits, candidates.length * 4);
        probs = weigh(candidates, V, weight);
      }
    }
    keepNucleus(probs.values, norm, params.topP);
  }
  return draw(probs.values, candidates, rng);
}

function weigh(candidates: Int32Array | null, V: number, weight: (t: number) => number): { values: Float64Array; sum: number } {
  const count = candidates ? candidates.length : V;
  const values = new Float64Array(count);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const p = weight(candidates ? (candidates[i] as number) : i);
    values[i] = p;
    sum += p;
  }
  return { values, sum };
}

/** Zeroes every weight past the smallest prefix (weights sorted, largest first) holding topP of `norm`. */
function keepNucleus(sorted: Float64Array, norm: number, topP: number): void {
  let mass = 0;
  for (let r = 0; r < sorted.length; r++) {
    if (mass >= topP) {
      sorted.fill(0, r);
      return;
    }
    mass += (sorted[r] as number) / norm;
  }
}

function draw(probs: Float64Array, candidates: Int32Array | null, rng: Rng): number {
  const at = (i: number) => (candidates ? (candidates[i] as number) : i);
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i] as number;
  let u = rng.next() * total;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i] as number;
    if (u < 0 && (probs[i] as number) > 0) return at(i);
  }
  // Rounding left u just above zero: the last kept candidate.
  for (let i = probs.length - 1; i >= 0; i--) if ((probs[i] as number) > 0) return at(i);
  return at(0);
}
