/** A worker thread that fuzzes its jobs in order; the runner watches it through `progress`. */
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzTarget, type FuzzFailure, type TargetResult } from './engine.ts';
import { TARGETS } from './targets/index.ts';

export interface Job {
  target: string;
  start: number;
  count: number;
}

export interface WorkerInput {
  seed: number;
  slowMs: number;
  jobs: Job[];
  /** Int32 cells: [job number, input index (-1 while the target loads)]. */
  progress: SharedArrayBuffer;
}

export type WorkerMessage = { type: 'failure'; job: number; failure: FuzzFailure } | { type: 'result'; job: number; result: TargetResult } | { type: 'done' };

if (parentPort) {
  const port = parentPort;
  const { seed, slowMs, jobs, progress } = workerData as WorkerInput;
  const cells = new Int32Array(progress);
  const post = (m: WorkerMessage) => port.postMessage(m);
  for (const [n, job] of jobs.entries()) {
    Atomics.store(cells, 1, -1);
    Atomics.store(cells, 0, n);
    const load = TARGETS[job.target];
    if (!load) throw new Error(`unknown fuzz target ${job.target}`);
    const target = await load();
    try {
      const result = await fuzzTarget(target, {
        seed,
        slowMs,
        start: job.start,
        count: job.count,
        onInput: (index) => Atomics.store(cells, 1, index),
        onNewFailure: (failure) => post({ type: 'failure', job: n, failure }),
      });
      post({ type: 'result', job: n, result });
    } finally {
      await target.close?.();
    }
  }
  post({ type: 'done' });
}
