/**
 * `npm run fuzz`: every decoder a peer, a modem or an upload can reach, over a fixed count
 * of generated and mutated inputs. Prints inputs per second and failures per target (each
 * with the seed and index that replay it); exits 1 when anything failed.
 *
 *   npm run fuzz -- [--count N] [--target a,b] [--seed S] [--slow-ms 100] [--hang-ms 10000]
 *   npm run fuzz -- --target T --seed S --index I     replay one input, with its stack trace
 *   npm run fuzz -- --target T --hex 0a1b...          run one given input
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DEFAULT_SLOW_MS, inputAt, judge } from './engine.ts';
import { DEFAULT_HANG_MS, formatResult, runFuzz } from './runner.ts';
import type { FuzzTarget } from './target.ts';
import { TARGETS, TARGET_NAMES } from './targets/index.ts';

export const DEFAULT_COUNT = 100_000;
export const DEFAULT_SEED = 1;

/** "1000000", "1_000_000", "1e6", "100k", "1M". */
function count(text: string): number {
  const m = /^(\d[\d_]*(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(text.trim());
  const n = m ? Number(m[1]!.replace(/_/g, '')) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1e3 : 1e6) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) throw new Error(`--count: expected a positive whole number, got "${text}"`);
  return n;
}

function integer(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number ≥ 0, got "${text}"`);
  return n;
}

async function replay(target: FuzzTarget, input: Uint8Array, slowMs: number): Promise<boolean> {
  try {
    console.log(`${target.name}: input (${input.length} bytes) ${Buffer.from(input).toString('hex')}`);
    const t0 = performance.now();
    let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, result: await target.run(input) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const ms = performance.now() - t0;
    const problem = judge(target, input, outcome);
    console.log(`took ${ms.toFixed(1)} ms${ms > slowMs ? ` (over the ${slowMs} ms bound)` : ''}`);
    if (!outcome.ok) console.log(problem ? 'FAILED: threw' : 'rejected as expected:', outcome.error);
    else if (problem) console.log(`FAILED (${problem.kind}): ${problem.message}`);
    else console.log('decoded without a problem');
    return problem === undefined && ms <= slowMs;
  } finally {
    await target.close?.();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      target: { type: 'string' },
      seed: { type: 'string' },
      index: { type: 'string' },
      hex: { type: 'string' },
      'slow-ms': { type: 'string' },
      'hang-ms': { type: 'string' },
      list: { type: 'boolean' },
    },
  });
  if (values.list) {
    console.log(TARGET_NAMES.join('\n'));
    return 0;
  }
  const targets = values.target ? values.target.split(',').map((t) => t.trim()) : TARGET_NAMES;
  for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target "${t}"; targets: ${TARGET_NAMES.join(', ')}`);
  const seed = values.seed === 'random' ? Math.floor(Math.random() * 2 ** 32) : values.seed === undefined ? DEFAULT_SEED : integer('seed', values.seed);
  const slowMs = values['slow-ms'] === undefined ? DEFAULT_SLOW_MS : integer('slow-ms', values['slow-ms']);
  const hangMs = values['hang-ms'] === undefined ? DEFAULT_HANG_MS : integer('hang-ms', values['hang-ms']);

  if (values.index !== undefined || values.hex !== undefined) {
    if (targets.length !== 1) throw new Error('--index and --hex replay one input: name one --target');
    const target = await TARGETS[targets[0]!]!();
    const input = values.hex !== undefined ? new Uint8Array(Buffer.from(values.hex, 'hex')) : inputAt(target, seed, integer('index', values.index!));
    return (await replay(target, input, slowMs)) ? 0 : 1;
  }

  const n = values.count === undefined ? DEFAULT_COUNT : count(values.count);
  console.log(`fuzz: ${targets.length} targets × ${n} inputs, seed ${seed}, slow bound ${slowMs} ms, hang bound ${hangMs} ms`);
  const t0 = performance.now();
  const results = await runFuzz({ targets, count: n, seed, slowMs, hangMs, onResult: (r) => console.log(formatResult(r)) });
  const failed = results.filter((r) => r.failures.length > 0).map((r) => r.target);
  console.log(`fuzz: ${((performance.now() - t0) / 1000).toFixed(1)} s in all; ${failed.length === 0 ? 'no failures' : `failures in ${failed.join(', ')}`}`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
