import { beforeAll, describe, expect, it } from 'vitest';
import { fuzzTarget, inputAt, type TargetResult } from '../../bench/fuzz/engine.ts';
import { formatResult, runFuzz } from '../../bench/fuzz/runner.ts';
import type { FuzzTarget } from '../../bench/fuzz/target.ts';
import { TARGET_NAMES } from '../../bench/fuzz/targets/index.ts';

// The same runner as `npm run fuzz`, at a count CI affords. The stall bound is looser than the
// CLI's 100 ms so a busy CI machine is not a failure; a decoder that stalls for seconds still is.
const COUNT = 2000;
const SEED = 1;

describe('every decoder under fuzz (npm run fuzz, small count)', () => {
  const results = new Map<string, TargetResult>();
  beforeAll(async () => {
    for (const r of await runFuzz({ targets: TARGET_NAMES, count: COUNT, seed: SEED, slowMs: 1000 })) results.set(r.target, r);
  }, 120_000);

  it.each(TARGET_NAMES)('%s throws only its own errors, within bounds of time and memory', (name) => {
    const r = results.get(name) as TargetResult;
    expect(r.inputs).toBe(COUNT);
    expect(r.failures, formatResult(r)).toEqual([]);
  });
});

describe('the fuzz engine', () => {
  // A decoder with a planted bug: a foreign error on inputs starting 0x42, its own error on the rest.
  class OwnError extends Error {}
  const planted: FuzzTarget = {
    name: 'planted',
    corpus: { seeds: [Uint8Array.of(0x41, 1, 2, 3)], dictionary: [Uint8Array.of(0x42)], maxBytes: 64 },
    run(input) {
      if (input[0] === 0x42) throw new TypeError('planted bug');
      if (input.length > 6) throw new OwnError('too long');
      return input.length;
    },
    expected: (err) => err instanceof OwnError,
    check: (result) => (result === 5 ? 'five is forbidden' : undefined),
  };

  it('groups failures by cause and keeps an input that replays each from (seed, index)', async () => {
    const r = await fuzzTarget(planted, { seed: 7, count: 3000 });
    const kinds = r.failures.map((f) => `${f.kind} ${f.message}`).sort();
    expect(kinds).toEqual(['error TypeError: planted bug', 'invariant check: five is forbidden']);
    for (const f of r.failures) {
      expect(Buffer.from(inputAt(planted, 7, f.index)).toString('hex')).toBe(f.hex);
      expect(f.count).toBeGreaterThan(0);
    }
    expect(formatResult(r)).toContain('replay: npm run fuzz -- --target planted --seed 7 --index');
  });

  it('generates the same inputs for the same seed and different ones for another', () => {
    const a = Array.from({ length: 50 }, (_, i) => Buffer.from(inputAt(planted, 1, i)).toString('hex'));
    expect(Array.from({ length: 50 }, (_, i) => Buffer.from(inputAt(planted, 1, i)).toString('hex'))).toEqual(a);
    expect(Array.from({ length: 50 }, (_, i) => Buffer.from(inputAt(planted, 2, i)).toString('hex'))).not.toEqual(a);
  });
});
