/*
 * The one place fuzz inputs are generated: valid encodings (golden fixtures and the
 * project's own encoders' output) mutated AFL-style, plus some plain random bytes.
 */
import type { Rng } from './rng.ts';

/** What a target's inputs grow from. */
export interface Corpus {
  /** Valid encodings: golden fixtures and the encoders' output. */
  seeds: readonly Uint8Array[];
  /** Tokens the format is made of (field codes, keywords, separators), inserted or overwritten whole. */
  dictionary: readonly Uint8Array[];
  /** Inputs are cut to this length. */
  maxBytes: number;
}

/** One byte edit, as the fast-check fuzz tests draw them: set, insert or delete at `at` (mod length). */
export type Edit = readonly [at: number, value: number, op: 'set' | 'insert' | 'delete'];

/** Applies byte edits and an optional cut (mod length + 1) to a copy of `seed`. */
export function applyEdits(seed: Uint8Array, edits: readonly Edit[], cut: number | null = null): Uint8Array {
  const bytes = Array.from(seed);
  for (const [at, value, op] of edits) {
    const i = bytes.length === 0 ? 0 : at % bytes.length;
    if (op === 'set') bytes[i] = value;
    else if (op === 'insert') bytes.splice(i, 0, value);
    else bytes.splice(i, 1);
  }
  return new Uint8Array(cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1)));
}

const INTERESTING_BYTES = [0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0x81, 0xfe, 0xff];
/** Values that sit on the edges of length and count fields. */
const BOUNDARY_VALUES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function insertAt(bytes: Uint8Array, at: number, chunk: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, at), chunk, bytes.subarray(at));
}

/** A length-ish value for a field at `at`: a fixed boundary, or what is left of the input ± 1. */
function boundaryValue(rng: Rng, length: number, at: number): number {
  if (rng.chance(0.7)) return rng.pick(BOUNDARY_VALUES);
  const rest = length - at;
  return Math.max(0, rest + rng.below(5) - 2);
}

/** Writes `value` as a 1, 2 or 4 byte field, big or little endian, over the bytes at a random place. */
function writeBoundary(rng: Rng, bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return Uint8Array.of(rng.pick(INTERESTING_BYTES));
  const width = rng.pick([1, 2, 4]);
  const at = rng.below(bytes.length);
  const value = boundaryValue(rng, bytes.length, at);
  const out = bytes.slice();
  const littleEndian = rng.chance(0.5);
  for (let i = 0; i < width && at + i < out.length; i++) {
    const shift = 8 * (littleEndian ? i : width - 1 - i);
    out[at + i] = Math.floor(value / 2 ** shift) & 0xff;
  }
  return out;
}

type Mutation = (rng: Rng, bytes: Uint8Array, corpus: Corpus) => Uint8Array;

const MUTATIONS: readonly Mutation[] = [
  function flipBit(rng, bytes) {
    if (bytes.length === 0) return bytes;
    const out = bytes.slice();
    const at = rng.below(out.length);
    out[at] = (out[at] as number) ^ (1 << rng.below(8));
    return out;
  },
  function setByte(rng, bytes) {
    if (bytes.length === 0) return bytes;
    const out = bytes.slice();
    out[rng.below(out.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
    return out;
  },
  function insertBytes(rng, bytes) {
    const chunk = rng.chance(0.5) ? rng.bytes(1 + rng.below(4)) : Uint8Array.of(rng.pick(INTERESTING_BYTES));
    return insertAt(bytes, rng.below(bytes.length + 1), chunk);
  },
  function deleteBytes(rng, bytes) {
    if (bytes.length === 0) return bytes;
    const at = rng.below(bytes.length);
    const n = 1 + rng.below(Math.min(8, bytes.length - at));
    return concat(bytes.subarray(0, at), bytes.subarray(at + n));
  },
  function truncate(rng, bytes) {
    return bytes.slice(0, rng.below(bytes.length + 1));
  },
  writeBoundary,
  function splice(rng, bytes, corpus) {
    const other = rng.pick(corpus.seeds);
    return concat(bytes.subarray(0, rng.below(bytes.length + 1)), other.subarray(rng.below(other.length + 1)));
  },
  function duplicateChunk(rng, bytes) {
    if (bytes.length === 0) return bytes;
    const from = rng.below(bytes.length);
    const chunk = bytes.slice(from, from + 1 + rng.below(Math.min(64, bytes.length - from)));
    let out = bytes;
    for (let times = 1 + rng.below(rng.chance(0.1) ? 64 : 3); times > 0; times--) out = insertAt(out, rng.below(out.length + 1), chunk);
    return out;
  },
  function dictionaryToken(rng, bytes, corpus) {
    if (corpus.dictionary.length === 0) return bytes;
    const token = rng.pick(corpus.dictionary);
    const at = rng.below(bytes.length + 1);
    if (rng.chance(0.5)) return insertAt(bytes, at, token);
    const out = bytes.slice();
    out.set(token.subarray(0, Math.max(0, out.length - at)), at);
    return out;
  },
];

/** One input: mostly a seed under 1–4 stacked mutations, sometimes a bare seed or random bytes. */
export function generateInput(rng: Rng, corpus: Corpus): Uint8Array {
  const roll = rng.float();
  if (roll < 0.05 || corpus.seeds.length === 0) return rng.bytes(rng.below(Math.min(corpus.maxBytes, 512) + 1));
  let bytes = rng.pick(corpus.seeds);
  if (roll < 0.07) return bytes.slice(0, corpus.maxBytes);
  const stacked = 1 + Math.min(rng.below(4), rng.below(4));
  for (let i = 0; i < stacked; i++) bytes = rng.pick(MUTATIONS)(rng, bytes, corpus);
  return bytes.length > corpus.maxBytes ? bytes.slice(0, corpus.maxBytes) : bytes;
}

/** Dictionary entries from text tokens (latin1, so a token is its own bytes). */
export function tokens(...texts: string[]): Uint8Array[] {
  return texts.map((t) => new Uint8Array(Buffer.from(t, 'latin1')));
}
