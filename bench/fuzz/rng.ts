import { mulberry32 } from '../../src/inference/random.ts';

/** A seeded PRNG with the draws the mutator needs. */
export class Rng {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  float(): number {
    return this.#next();
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.#next() * n);
  }

  chance(p: number): boolean {
    return this.#next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)] as T;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.below(256);
    return out;
  }
}

/**
 * The PRNG seed of input `index` in a run seeded `seed` (murmur3's finaliser over both):
 * every input can be regenerated on its own, so a failure replays from (seed, index).
 */
export function inputSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index, 0x9e3779b1) ^ Math.imul(Math.floor(index / 2 ** 32), 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
