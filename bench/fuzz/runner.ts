/*
 * Runs fuzz targets in a worker thread and watches it: an input that never returns (a hang)
 * or a worker that dies (an uncaught error, the heap limit) is recorded against the input it
 * was on, and the run goes on from the next input in a fresh worker.
 */
import { Worker } from 'node:worker_threads';
import { DEFAULT_SLOW_MS, inputAt, signatureOf, type FailureKind, type FuzzFailure, type TargetResult } from './engine.ts';
import { TARGETS } from './targets/index.ts';
import type { Job, WorkerInput, WorkerMessage } from './worker.ts';

export interface RunOptions {
  targets: readonly string[];
  /** Inputs per target. */
  count: number;
  seed: number;
  slowMs?: number;
  /** An input still running after this long is a hang: the worker is stopped. */
  hangMs?: number;
  /** The worker's heap limit: past it the worker dies and the input is a memory failure. */
  maxHeapMb?: number;
  /** Called as each target finishes. */
  onResult?: (result: TargetResult) => void;
}

export const DEFAULT_HANG_MS = 10_000;
const LOAD_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
/** After this many dead workers a target is given up (the rest of its inputs are not run). */
const MAX_RESTARTS = 5;

interface Stop {
  job: number;
  index: number;
  kind: FailureKind;
  message: string;
  /** Time the job had spent on inputs before it stopped. */
  elapsedMs: number;
}

interface WorkerRun {
  results: Map<number, TargetResult>;
  failures: Map<number, FuzzFailure[]>;
  stop?: Stop;
}

function emptyResult(target: string, seed: number): TargetResult {
  return { target, seed, inputs: 0, elapsedMs: 0, failures: [], slowestMs: 0, slowestIndex: -1, peakRssBytes: 0 };
}

function mergeFailures(into: FuzzFailure[], more: readonly FuzzFailure[]): void {
  for (const f of more) {
    const same = into.find((g) => g.signature === f.signature);
    if (!same) into.push({ ...f });
    else {
      same.count += f.count;
      if (f.hex.length < same.hex.length) Object.assign(same, { index: f.index, hex: f.hex, message: f.message, stack: f.stack });
    }
  }
}

function merge(into: TargetResult, r: TargetResult): void {
  into.inputs += r.inputs;
  into.elapsedMs += r.elapsedMs;
  mergeFailures(into.failures, r.failures);
  if (r.slowestMs > into.slowestMs) {
    into.slowestMs = r.slowestMs;
    into.slowestIndex = r.slowestIndex;
  }
  into.peakRssBytes = Math.max(into.peakRssBytes, r.peakRssBytes);
}

/** One worker over `jobs`, until it finishes them or stops on an input. */
function runWorker(jobs: readonly Job[], o: RunOptions, onJobDone: (job: number, r: TargetResult, failures: FuzzFailure[]) => void): Promise<WorkerRun> {
  const progress = new SharedArrayBuffer(8);
  const cells = new Int32Array(progress);
  cells[0] = 0;
  cells[1] = -1;
  const input: WorkerInput = { seed: o.seed, slowMs: o.slowMs ?? DEFAULT_SLOW_MS, jobs: [...jobs], progress };
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: o.maxHeapMb ?? 2048 },
    stdout: false,
    stderr: false,
  });
  const run: WorkerRun = { results: new Map(), failures: new Map() };
  const hangMs = o.hangMs ?? DEFAULT_HANG_MS;
  return new Promise((resolve) => {
    let seen = { job: -1, index: -2 };
    let since = Date.now();
    let jobStartedAt = Date.now();
    let settled = false;
    const finish = (stop?: Stop) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      if (stop) run.stop = stop;
      void worker.terminate().then(() => resolve(run));
    };
    const where = () => ({ job: Atomics.load(cells, 0), index: Atomics.load(cells, 1) });
    const poll = setInterval(() => {
      const now = where();
      if (now.job !== seen.job || now.index !== seen.index) {
        if (now.job !== seen.job || (seen.index < 0 && now.index >= 0)) jobStartedAt = Date.now();
        seen = now;
        since = Date.now();
        return;
      }
      const stuck = Date.now() - since;
      if (now.index < 0 && stuck > LOAD_TIMEOUT_MS) finish({ ...now, kind: 'crash', message: `target did not load in ${LOAD_TIMEOUT_MS} ms`, elapsedMs: 0 });
      else if (now.index >= 0 && stuck > hangMs) finish({ ...now, kind: 'hang', message: `no result after ${hangMs} ms`, elapsedMs: Date.now() - jobStartedAt });
    }, POLL_MS);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'failure') {
        const list = run.failures.get(m.job) ?? [];
        list.push(m.failure);
        run.failures.set(m.job, list);
      } else if (m.type === 'result') {
        run.results.set(m.job, m.result);
        onJobDone(m.job, m.result, run.failures.get(m.job) ?? []);
      } else finish();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const at = where();
      const memory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish({ ...at, kind: memory ? 'memory' : 'crash', message: `${memory ? 'worker heap limit reached' : 'worker died'}: ${err.stack ?? err.message}`, elapsedMs: Date.now() - jobStartedAt });
    });
    worker.on('exit', (code) => {
      if (!settled) finish({ ...where(), kind: 'crash', message: `worker exited with code ${code}`, elapsedMs: Date.now() - jobStartedAt });
    });
  });
}

/** Runs every target for `count` inputs; returns one merged result per target, in order. */
export async function runFuzz(o: RunOptions): Promise<TargetResult[]> {
  for (const name of o.targets) if (!TARGETS[name]) throw new Error(`unknown fuzz target "${name}"; targets: ${Object.keys(TARGETS).join(', ')}`);
  const merged = new Map(o.targets.map((t) => [t, emptyResult(t, o.seed)]));
  const restarts = new Map<string, number>();
  let jobs: Job[] = o.targets.map((target) => ({ target, start: 0, count: o.count }));
  while (jobs.length > 0) {
    const current = jobs;
    const run = await runWorker(current, o, (n, r) => {
      const total = merged.get(current[n]!.target)!;
      merge(total, r);
      o.onResult?.(total);
    });
    const stop = run.stop;
    if (!stop) break;
    const job = current[stop.job]!;
    const total = merged.get(job.target)!;
    // The failures it reported before it stopped, then the input it stopped on.
    mergeFailures(total.failures, run.failures.get(stop.job) ?? []);
    const done = stop.index < 0 ? 0 : stop.index - job.start + 1;
    total.inputs += done;
    total.elapsedMs += stop.elapsedMs;
    if (stop.index >= 0) {
      const target = await TARGETS[job.target]!();
      const hex = Buffer.from(inputAt(target, o.seed, stop.index)).toString('hex');
      await target.close?.();
      mergeFailures(total.failures, [{ kind: stop.kind, signature: signatureOf(stop.kind, stop.kind, stop.message.split('\n')[0] ?? ''), message: stop.message, count: 1, index: stop.index, hex }]);
    }
    const tries = (restarts.get(job.target) ?? 0) + 1;
    restarts.set(job.target, tries);
    const rest = job.count - done;
    const next: Job[] = stop.index >= 0 && rest > 0 && tries < MAX_RESTARTS ? [{ target: job.target, start: stop.index + 1, count: rest }] : [];
    if (next.length === 0) {
      if (stop.index < 0 || rest > 0) total.abandoned = true;
      o.onResult?.(total);
    }
    jobs = [...next, ...current.slice(stop.job + 1)];
  }
  return o.targets.map((t) => merged.get(t)!);
}

const MAX_HEX_SHOWN = 8192;

/** The report lines for one target: its figures, then each failure with its replay command. */
export function formatResult(r: TargetResult): string {
  const perSecond = r.elapsedMs > 0 ? Math.round((r.inputs * 1000) / r.elapsedMs) : 0;
  const failed = r.failures.reduce((n, f) => n + f.count, 0);
  const lines = [
    `${r.target.padEnd(10)} ${String(r.inputs).padStart(9)} inputs ${(r.elapsedMs / 1000).toFixed(1).padStart(7)} s ${String(perSecond).padStart(8)} inputs/s  ` +
      `${failed === 0 ? 'ok' : `${failed} FAILED (${r.failures.length} distinct)`}  slowest ${r.slowestMs.toFixed(1)} ms (#${r.slowestIndex})  peak rss ${Math.round(r.peakRssBytes / 1_048_576)} MiB`,
  ];
  if (r.abandoned) lines.push(`  GAVE UP (the target would not load, or ${MAX_RESTARTS} workers died or stuck): the other inputs were not run`);
  for (const f of r.failures) {
    lines.push(`  FAIL ${f.kind} ×${f.count}: ${f.message.split('\n')[0]}`);
    const frames = f.stack?.split('\n').filter((l) => l.trimStart().startsWith('at ') || l.startsWith('caused by')).slice(0, 4) ?? [];
    for (const frame of frames) lines.push(`       ${frame.trim()}`);
    lines.push(`       replay: npm run fuzz -- --target ${r.target} --seed ${r.seed} --index ${f.index}`);
    const shown = f.hex.length > MAX_HEX_SHOWN ? `${f.hex.slice(0, MAX_HEX_SHOWN)}… (${f.hex.length / 2} bytes; --index replays it whole)` : f.hex || '(empty)';
    lines.push(`       input (${f.hex.length / 2} bytes): ${shown}`);
  }
  return lines.join('\n');
}
