import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JOINS, hasJoiner } from '../../src/sms/clusters.ts';
import { DEFAULT_SHIFT, encodingMap, gsm7Length, type Gsm7Shift } from '../../src/sms/gsm7.ts';
import { decodePdu, encodeSubmit } from '../../src/sms/index.ts';
import { planSegments, type SegmentOptions } from '../../src/sms/segmenter.ts';
import { buildUdh, concatHeaders } from '../../src/sms/udh.ts';

/**
 * The cut rules written the slow, obvious way: clusters from Intl.Segmenter (CR LF as two),
 * each cluster's cost summed per code point; a cluster that fits a part on its own moves
 * whole, a larger one is cut between code points.
 */
function referenceEnds(text: string, map: Int16Array | null, single: number, capacity: number): number[] {
  const costOf = (s: string): number => (map === null ? s.length : Array.from(s).reduce((n, ch) => n + (map[ch.charCodeAt(0)]! & 0x100 ? 2 : 1), 0));
  if (costOf(text) <= single) return [text.length];
  const clusters: string[] = [];
  for (const { segment } of new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text)) {
    if (segment === '\r\n') clusters.push('\r', '\n');
    else clusters.push(segment);
  }
  const ends: number[] = [];
  let pos = 0;
  let used = 0;
  for (const cluster of clusters) {
    const c = costOf(cluster);
    if (used + c <= capacity) used += c;
    else if (c <= capacity) {
      ends.push(pos);
      used = c;
    } else {
      let at = pos;
      for (const cp of Array.from(cluster)) {
        const pc = costOf(cp);
        if (used + pc > capacity) {
          ends.push(at);
          used = 0;
        }
        used += pc;
        at += cp.length;
      }
    }
    pos += cluster.length;
  }
  ends.push(text.length);
  return ends;
}

/** Alphabets apart, so each path (GSM-7, national tables, UCS-2 with and without clusters) gets long texts. */
const families = [
  ['a', 'Z', ' ', '0', '@', '£', '€', '[', '^', '\r\n', '\n'], // GSM-7 and its extension table
  ['a', ' ', 'ğ', 'ş', 'İ', 'ç', '€'], // Turkish
  ['न', 'म', 'स', '्', 'ते', ' ', '?'], // Devanagari, with joining signs
  ['a', '你', 'П', '😀', '\uD800', '\uDC00'], // UCS-2 by code point, lone surrogates
  ['a', '你', '😀', '👍🏽', '🇩🇪', '👨‍👩‍👧', 'é', 'e\u0301', '\r\n'], // UCS-2 with clusters
];
const texts = fc
  .constantFrom(...families)
  .chain((pieces) => fc.array(fc.constantFrom(...pieces), { maxLength: 400, size: 'max' }))
  .map((a) => a.join(''));
const optionSets: SegmentOptions[] = [
  {},
  { ref16: true },
  { nationalLanguages: ['turkish'] },
  { nationalLanguages: ['hindi'] },
  { ports: { destination: 2948, source: 9200, bits: 16 } },
];

describe('single-pass segmentation', () => {
  it('cuts exactly where the cluster-by-cluster rules cut', () => {
    fc.assert(
      fc.property(texts, fc.constantFrom(...optionSets), (text, opts) => {
        const plan = planSegments(text, { ...opts, maxParts: 255, allowOverLimit: true });
        const shift: Gsm7Shift = plan.encoding === 'gsm7' ? plan.gsm7Shift : DEFAULT_SHIFT;
        const map = plan.encoding === 'gsm7' ? encodingMap(shift) : null;
        if (plan.segments === 1) {
          expect(plan.ends).toEqual([text.length]);
          expect(plan.units).toBeLessThanOrEqual(plan.unitsPerSegment);
        } else {
          expect(plan.ends).toEqual(referenceEnds(text, map, -1, plan.unitsPerSegment));
        }
        expect(plan.units).toBe(map === null ? text.length : gsm7Length(text, shift));
        expect(plan.characters).toBe(Array.from(text).length);
      }),
      { numRuns: 400 },
    );
  });

  it('encodes every part so that decoding gives the text back', () => {
    fc.assert(
      fc.property(texts.filter((t) => !/[\uD800-\uDFFF]/.test(t)), fc.constantFrom(...optionSets), (text, opts) => {
        const parts = encodeSubmit({ to: '+15551234567', text, ...opts, maxParts: 255 });
        let joined = '';
        for (const [i, p] of parts.entries()) {
          const d = decodePdu(p.hex, { direction: 'outgoing' });
          if (d.type !== 'submit') throw new Error('expected a SUBMIT');
          expect(d.tpduLength).toBe(p.tpduLength);
          if (parts.length > 1) expect(d.concat).toMatchObject({ part: i + 1, total: parts.length });
          joined += d.text;
        }
        expect(joined).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('finds joiners exactly where the JOINS pattern does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        expect(hasJoiner(s)).toBe(JOINS.test(s));
      }),
      { numRuns: 2000 },
    );
    for (const s of ['e\u0301', '🇩🇪', '👍🏽', 'a\u200Db', '\u1100', 'नमस्ते', 'plain', '你好', '\uD83D']) {
      expect(hasJoiner(s)).toBe(JOINS.test(s));
    }
  });

  it('derives the same concatenation headers as building each one', () => {
    for (const ports of [undefined, { destination: 2948, source: 9200, bits: 16 as const }, { destination: 1, source: 2, bits: 8 as const }]) {
      for (const refBits of [8, 16] as const) {
        const base = { ...(ports ? { ports } : {}), singleShift: 1 };
        const ref = refBits === 8 ? 0x34 : 0x1234;
        concatHeaders(base, ref, refBits, 4).forEach((udh, i) => {
          expect(udh).toEqual(buildUdh({ ...base, concat: { ref, refBits, part: i + 1, total: 4 } }));
        });
      }
    }
  });

  it('gives a long message the same default reference every time, and others a different one', () => {
    const text = 'x'.repeat(400);
    const ref = (t: string, to = '+15551234567'): number => {
      const d = decodePdu(encodeSubmit({ to, text: t })[0]!.hex, { direction: 'outgoing' });
      return d.type === 'submit' ? (d.concat?.ref ?? -1) : -1;
    };
    expect(ref(text)).toBe(ref(text));
    const refs = new Set(Array.from({ length: 40 }, (_, i) => ref(`${text}${i}`)));
    expect(refs.size).toBeGreaterThan(30);
  });
});
