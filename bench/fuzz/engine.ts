/** Runs one target over a range of generated inputs in this thread, grouping failures by cause. */
import { performance } from 'node:perf_hooks';
import { generateInput } from './mutate.ts';
import { Rng, inputSeed } from './rng.ts';
import type { FuzzTarget } from './target.ts';

export type FailureKind = 'error' | 'invariant' | 'slow' | 'memory' | 'hang' | 'crash';

/** One cause of failure, with how often it happened and its shortest input. */
export interface FuzzFailure {
  kind: FailureKind;
  /** What groups failures: kind, error class, message with numbers blanked, throwing frame. */
  signature: string;
  message: string;
  stack?: string;
  count: number;
  /** The input (by index) that replays it: the shortest one seen. */
  index: number;
  hex: string;
}

export interface TargetResult {
  target: string;
  seed: number;
  inputs: number;
  elapsedMs: number;
  failures: FuzzFailure[];
  slowestMs: number;
  slowestIndex: number;
  peakRssBytes: number;
  /** Set when the runner gave the target up after repeated dead workers: `inputs` is short of the count. */
  abandoned?: boolean;
}

export interface EngineOptions {
  seed: number;
  start?: number;
  count: number;
  /** An input whose decode takes longer than this (on a re-run too) is a failure. */
  slowMs?: number;
  /** Called before each input: the watchdog's view of where the run is. */
  onInput?: (index: number) => void;
  /** Called once per new failure signature, when first seen. */
  onNewFailure?: (failure: FuzzFailure) => void;
}

export const DEFAULT_SLOW_MS = 100;
/** At most this many distinct causes are kept per target; more are counted under the last. */
const MAX_SIGNATURES = 50;
/** A result may hold this many bytes of arrays and strings per input byte (plus a 1 MiB floor). */
const MAX_AMPLIFICATION = 64;
const MEMORY_FLOOR_BYTES = 1 << 20;

/** Input `index` of a run seeded `seed`, regenerated on its own. */
export function inputAt(target: FuzzTarget, seed: number, index: number): Uint8Array {
  return generateInput(new Rng(inputSeed(seed, index)), target.corpus);
}

/** Bytes held by typed arrays and strings in a decoder's result (a bounded walk). */
export function retainedBytes(value: unknown): number {
  let total = 0;
  let budget = 20_000;
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > 8) return;
    if (typeof v === 'string') total += v.length * 2;
    else if (ArrayBuffer.isView(v)) total += v.byteLength;
    else if (v !== null && typeof v === 'object' && !seen.has(v)) {
      seen.add(v);
      for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child, depth + 1);
    }
  };
  walk(value, 0);
  return total;
}

function firstFrame(stack: string | undefined): string {
  const frame = stack?.split('\n').find((l) => l.trimStart().startsWith('at '));
  return frame?.trim().replace(/:\d+\)?$/, '') ?? '';
}

function describe(err: unknown): { name: string; message: string; stack?: string } {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `\ncaused by ${err.cause.stack ?? err.cause.message}` : '';
    return { name: err.name, message: err.message, stack: `${err.stack ?? ''}${cause}` };
  }
  return { name: typeof err, message: String(err) };
}

export function signatureOf(kind: FailureKind, name: string, message: string, frame = ''): string {
  // Values blanked (numbers, quoted text) so one cause seen with many values is one failure.
  const shape = message.replace(/"[^"]*"/g, 'S').replace(/-?(\d[\d.e+]*|NaN|Infinity)/g, 'N');
  return `${kind}:${name}:${shape.slice(0, 160)}${frame ? `@${frame}` : ''}`;
}

/** Collects failures per signature, keeping each one's shortest input. */
export class FailureLog {
  readonly #bySignature = new Map<string, FuzzFailure>();
  #onNew: ((f: FuzzFailure) => void) | undefined;

  constructor(onNew?: (f: FuzzFailure) => void) {
    this.#onNew = onNew;
  }

  add(f: Omit<FuzzFailure, 'count'>): void {
    const existing = this.#bySignature.get(f.signature);
    if (existing) {
      existing.count++;
      if (f.hex.length < existing.hex.length) Object.assign(existing, { index: f.index, hex: f.hex, message: f.message, stack: f.stack });
      return;
    }
    if (this.#bySignature.size >= MAX_SIGNATURES) {
      const last = [...this.#bySignature.values()].at(-1) as FuzzFailure;
      last.count++;
      return;
    }
    const failure = { ...f, count: 1 };
    this.#bySignature.set(f.signature, failure);
    this.#onNew?.(failure);
  }

  get failures(): FuzzFailure[] {
    return [...this.#bySignature.values()];
  }
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** Runs the target once; awaits only when it returns a promise, so sync decoders stay fast. */
function runOnce(target: FuzzTarget, input: Uint8Array): Outcome | Promise<Outcome> {
  try {
    const result = target.run(input);
    if (result instanceof Promise) return result.then((r: unknown): Outcome => ({ ok: true, result: r }), (error: unknown): Outcome => ({ ok: false, error }));
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error };
  }
}

async function timed(target: FuzzTarget, input: Uint8Array): Promise<{ outcome: Outcome; ms: number }> {
  const t0 = performance.now();
  let outcome = runOnce(target, input);
  if (outcome instanceof Promise) outcome = await outcome;
  return { outcome, ms: performance.now() - t0 };
}

/** What is wrong with one input's outcome, if anything. */
export function judge(target: FuzzTarget, input: Uint8Array, outcome: Outcome): { kind: FailureKind; name: string; message: string; stack?: string } | undefined {
  if (!outcome.ok) {
    if (target.expected(outcome.error, input)) return undefined;
    return { kind: 'error', ...describe(outcome.error) };
  }
  const problem = target.check?.(outcome.result, input);
  if (problem !== undefined) return { kind: 'invariant', name: 'check', message: problem };
  const held = retainedBytes(outcome.result);
  if (held > Math.max(MEMORY_FLOOR_BYTES, MAX_AMPLIFICATION * input.length)) {
    return { kind: 'memory', name: 'result', message: `a ${input.length}-byte input decoded to ${(held / 1_048_576).toFixed(1)} MiB` };
  }
  return undefined;
}

export async function fuzzTarget(target: FuzzTarget, options: EngineOptions): Promise<TargetResult> {
  const { seed, count } = options;
  const start = options.start ?? 0;
  const slowMs = options.slowMs ?? DEFAULT_SLOW_MS;
  const log = new FailureLog(options.onNewFailure);
  let slowestMs = 0;
  let slowestIndex = -1;
  let peakRss = process.memoryUsage.rss();
  const t0 = performance.now();
  for (let index = start; index < start + count; index++) {
    options.onInput?.(index);
    const input = inputAt(target, seed, index);
    const first = await timed(target, input);
    const outcome = first.outcome;
    let ms = first.ms;
    if (ms > slowMs) {
      // A slow input is timed again so a GC pause or a busy machine is not reported as a decoder stall.
      const again = await timed(target, input);
      ms = Math.min(ms, again.ms);
    }
    if (ms > slowestMs) {
      slowestMs = ms;
      slowestIndex = index;
    }
    const hex = (): string => Buffer.from(input).toString('hex');
    const problem = judge(target, input, outcome);
    if (problem) {
      log.add({ kind: problem.kind, signature: signatureOf(problem.kind, problem.name, problem.message, firstFrame(problem.stack)), message: `${problem.name}: ${problem.message}`, stack: problem.stack, index, hex: hex() });
    }
    if (ms > slowMs) log.add({ kind: 'slow', signature: signatureOf('slow', 'slow', ''), message: `one input took ${ms.toFixed(0)} ms (bound ${slowMs} ms)`, index, hex: hex() });
    if ((index & 0xfff) === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    // Awaiting only resolved promises never reaches the event loop: what targets leave to
    // timers and setImmediate (stream resumes, fastify's request teardown) would pile up.
    if ((index & 0x3f) === 0x3f) await new Promise((resolve) => setImmediate(resolve));
  }
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { target: target.name, seed, inputs: count, elapsedMs: performance.now() - t0, failures: log.failures, slowestMs, slowestIndex, peakRssBytes: peakRss };
}
