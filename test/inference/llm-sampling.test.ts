import { describe, expect, it } from 'vitest';
import { applyRepetitionPenalty, argmax, GREEDY, Rng, sampleToken, topIndices } from '../../src/inference/runners/llm/index.ts';
import { SseParser } from '../../src/inference/upstream/index.ts';

const logits = () => new Float32Array([1, 3, 2, 0.5, 2.9]);

describe('token sampling', () => {
  it('greedy picks the argmax', () => {
    expect(argmax(logits())).toBe(1);
    expect(sampleToken(logits(), GREEDY, new Rng(1))).toBe(1);
    expect(sampleToken(logits(), { temperature: 0.8, topP: 1, topK: 1, repetitionPenalty: 1 }, new Rng(1))).toBe(1);
  });

  it('divides positive and multiplies negative logits of seen tokens by the repetition penalty (HF rule)', () => {
    const l = new Float32Array([2, -2, 1]);
    applyRepetitionPenalty(l, [0, 1], 2);
    expect([...l]).toEqual([1, -4, 1]);
    expect(sampleToken(logits(), { ...GREEDY, repetitionPenalty: 1.5 }, new Rng(1), [1])).toBe(4);
  });

  it('keeps only the top k candidates', () => {
    expect([...topIndices(logits(), 3)]).toEqual([1, 4, 2]);
    const rng = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(sampleToken(logits(), { temperature: 1, topP: 1, topK: 2, repetitionPenalty: 1 }, rng));
    expect(seen).toEqual(new Set([1, 4]));
  });

  it('selects the same top k as a full sort, ties included', () => {
    const rng = new Rng(5);
    for (const n of [10, 1000, 20000]) {
      const l = Float32Array.from({ length: n }, () => Math.round(rng.next() * 50) / 10);
      for (const k of [1, 7, 64, n]) {
        const naive = Array.from(l.keys()).sort((a, b) => l[b]! - l[a]! || a - b).slice(0, k);
        expect([...topIndices(l, k)].map((i) => l[i])).toEqual(naive.map((i) => l[i]));
      }
    }
  });

  it('keeps the smallest nucleus whose mass reaches top_p', () => {
    // softmax([1,3,2,0.5,2.9]): 3 → .39, 2.9 → .35, 2 → .14 ... top_p 0.7 keeps {1, 4}.
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(sampleToken(logits(), { temperature: 1, topP: 0.7, topK: 0, repetitionPenalty: 1 }, rng));
    expect(seen).toEqual(new Set([1, 4]));
  });

  it('keeps the exact nucleus over the whole vocabulary when more than 1,024 tokens are needed to reach top_p', () => {
    // A draw of u → 1 returns the nucleus' last token, which a full sort finds independently.
    const V = 5000;
    const T = 0.7;
    const p = 0.9;
    /** The nucleus by a full sort of the softmax: its size and its last token. */
    const exactNucleus = (l: Float32Array) => {
      const order = Array.from(l.keys()).sort((a, b) => l[b]! - l[a]! || a - b);
      const w = order.map((t) => Math.exp((l[t]! - l[order[0]!]!) / T));
      const norm = w.reduce((a, b) => a + b);
      let mass = 0;
      let size = 0;
      while (mass < p) mass += w[size++]! / norm;
      return { size, last: order[size - 1]! };
    };
    const almostOne = { next: () => 1 - 1e-12 } as Rng;
    const params = { temperature: T, topP: p, topK: 0, repetitionPenalty: 1 };
    // Flat: the 0.9 nucleus holds ~4,500 tokens. Peaked: it fits in the pool, still measured against the full sum.
    const flat = () => Float32Array.from({ length: V }, (_, i) => -i * 1e-4 + ((i * 7919) % 13) * 1e-5);
    const peaked = () => Float32Array.from({ length: V }, (_, i) => (i < 40 ? 10 - i * 0.05 : -i * 1e-4));
    const wide = exactNucleus(flat());
    expect(wide.size).toBeGreaterThan(1024);
    expect(sampleToken(flat(), params, almostOne)).toBe(wide.last);
    const narrow = exactNucleus(peaked());
    expect(narrow.size).toBeLessThan(1024);
    expect(sampleToken(peaked(), params, almostOne)).toBe(narrow.last);
  });

  it('draws in proportion to softmax(logits / T), reproducibly for a seed', () => {
    const draw = (seed: number) => Array.from({ length: 50 }, ((rng) => () => sampleToken(logits(), { temperature: 1, topP: 1, topK: 0, repetitionPenalty: 1 }, rng))(new Rng(seed)));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    const rng = new Rng(9);
    const counts = new Array(5).fill(0) as number[];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits(), { temperature: 1, topP: 1, topK: 0, repetitionPenalty: 1 }, rng)]! += 1;
    const z = [1, 3, 2, 0.5, 2.9].map(Math.exp);
    const sum = z.reduce((a, b) => a + b);
    z.forEach((v, i) => expect(Math.abs(counts[i]! / n - v / sum)).toBeLessThan(0.015));
  });
});

describe('SSE parsing', () => {
  it('splits events across chunk boundaries, CRLF and multi-line data, skipping comments', () => {
    const p = new SseParser();
    const enc = new TextEncoder();
    expect(p.push(enc.encode(': keep-alive\n\ndata: {"a"'))).toEqual([]);
    expect(p.push(enc.encode(':1}\r\n\r\ndata: x\ndata: y\n'))).toEqual([{ event: 'message', data: '{"a":1}' }]);
    expect(p.push(enc.encode('\nevent: done\ndata: [DONE]\n\n'))).toEqual([
      { event: 'message', data: 'x\ny' },
      { event: 'done', data: '[DONE]' },
    ]);
    expect(p.push(enc.encode('data: tail'))).toEqual([]);
    expect(p.end()).toEqual([{ event: 'message', data: 'tail' }]);
  });

  it('decodes UTF-8 split inside a character', () => {
    const p = new SseParser();
    const bytes = new TextEncoder().encode('data: héllo\n\n');
    expect(p.push(bytes.slice(0, 8))).toEqual([]);
    expect(p.push(bytes.slice(8))).toEqual([{ event: 'message', data: 'héllo' }]);
  });
});
