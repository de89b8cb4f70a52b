import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { InferenceMetrics, InferencePool, QueueFullError, TaskCancelledError, WorkerCrashedError } from '../../src/inference/index.ts';
import { silentLogger } from '../../src/logging/index.ts';

const runner = new URL('./fixtures/test-runner.ts', import.meta.url).href;
let pool: InferencePool | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

function gate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
}

describe('InferencePool', () => {
  it('moves inputs and outputs between threads by transfer, never copying them', async () => {
    pool = new InferencePool({ workers: 1, maxQueue: 4, logger: silentLogger() });
    const samples = new Float32Array([1, 2, 3]);
    const result = await pool.run<{ samples: Float32Array; received: number }>({ runner, op: 'double', payload: { samples } }, { transfer: [samples.buffer] });
    expect(samples.byteLength).toBe(0); // detached here: it moved
    expect(Array.from(result.samples)).toEqual([2, 4, 6]);
    expect(result.received).toBe(12);
  });

  it('runs many concurrent tasks across its workers', async () => {
    pool = new InferencePool({ workers: 2, maxQueue: 100, logger: silentLogger() });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => pool!.run<{ samples: Float32Array }>({ runner, op: 'double', payload: { samples: new Float32Array([i]) } })),
    );
    expect(results.map((r) => r.samples[0])).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    const threads = new Set(await Promise.all(Array.from({ length: 8 }, () => pool!.run<number>({ runner, op: 'threadId', payload: {} }))));
    expect(threads.size).toBeGreaterThanOrEqual(1);
  });

  it('refuses with 503 when the queue is full', async () => {
    pool = new InferencePool({ workers: 1, maxQueue: 1, logger: silentLogger() });
    const g = gate();
    const progress = gate();
    const busy = pool.run({ runner, op: 'steps', payload: { gate: g, steps: 100000, progress } }).catch((e: unknown) => e);
    await until(() => Atomics.load(progress, 0) === 1);
    const queued = pool.run({ runner, op: 'double', payload: { samples: new Float32Array(1) } }).catch((e: unknown) => e);
    const err = await pool.run({ runner, op: 'double', payload: { samples: new Float32Array(1) } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).status).toBe(503);
    expect((err as QueueFullError).message).toMatch(/inference queue is full/);
    await pool.close();
    expect(((await queued) as Error).message).toMatch(/shutting down/);
    await busy;
  });

  it('cancels a running task when its signal aborts; the worker stops at its next step and stays usable', async () => {
    pool = new InferencePool({ workers: 1, maxQueue: 4, logger: silentLogger() });
    const controller = new AbortController();
    const progress = gate();
    const running = pool.run({ runner, op: 'steps', payload: { gate: gate(), steps: 1_000_000, progress } }, { signal: controller.signal });
    await until(() => Atomics.load(progress, 0) === 1);
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(TaskCancelledError);
    // The same worker (no restart) takes the next task once the cancelled one stopped.
    const next = await pool.run<{ samples: Float32Array }>({ runner, op: 'double', payload: { samples: new Float32Array([5]) } });
    expect(next.samples[0]).toBe(10);
  });

  it('drops a queued task whose caller went away before a worker took it', async () => {
    pool = new InferencePool({ workers: 1, maxQueue: 4, logger: silentLogger() });
    const g = gate();
    const progress = gate();
    const first = pool.run({ runner, op: 'steps', payload: { gate: g, steps: 3, progress } });
    await until(() => Atomics.load(progress, 0) === 1);
    const controller = new AbortController();
    const secondProgress = gate();
    const second = pool.run({ runner, op: 'steps', payload: { gate: gate(), steps: 3, progress: secondProgress } }, { signal: controller.signal });
    controller.abort();
    await expect(second).rejects.toBeInstanceOf(TaskCancelledError);
    Atomics.store(g, 0, 1);
    await first;
    await pool.run({ runner, op: 'double', payload: { samples: new Float32Array(1) } });
    expect(Atomics.load(secondProgress, 0)).toBe(0); // never started
  });

  it('replaces a worker that crashes; its request fails cleanly with 503 and the next one succeeds', async () => {
    pool = new InferencePool({ workers: 1, maxQueue: 4, logger: silentLogger() });
    const err = await pool.run({ runner, op: 'crash', payload: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect((err as WorkerCrashedError).status).toBe(503);
    const next = await pool.run<{ samples: Float32Array }>({ runner, op: 'double', payload: { samples: new Float32Array([1]) } });
    expect(next.samples[0]).toBe(2);
  });

  it('exports queue depth and task latency on the registry it is given', async () => {
    const registry = new Registry();
    pool = new InferencePool({ workers: 1, maxQueue: 4, logger: silentLogger(), metrics: new InferenceMetrics(registry) });
    await pool.run({ runner, op: 'double', payload: { samples: new Float32Array(1) } });
    const text = await registry.metrics();
    expect(text).toMatch(/agentphone_inference_queue_depth 0/);
    expect(text).toMatch(/agentphone_inference_tasks_total\{model="-",stage="double",outcome="ok"\} 1/);
    expect(text).toMatch(/agentphone_inference_run_seconds_count\{model="-",stage="double"\} 1/);
  });
});

describe('the gateway’s pools (createInference)', () => {
  it('runs speech on a pool of its own: a SNAC task finishes while a long transcription holds every stt worker', async () => {
    const { createInference } = await import('../../src/inference/index.ts');
    const { validateConfig } = await import('../../src/config/index.ts');
    const config = validateConfig({ dataDir: '/nonexistent-agentphone', inference: { workers: 1 } });
    const inference = createInference(config, silentLogger(), new Registry());
    try {
      expect(inference.pools.stt.threads).toBe(1);
      const closed = gate();
      let transcriptionDone = false;
      // The "transcription": one task that keeps the only stt worker busy until the gate opens.
      const long = inference.pools.stt.run({ runner, op: 'steps', payload: { gate: closed, steps: 100_000, progress: gate() } }).then(() => (transcriptionDone = true));
      const speech = await inference.pools.tts.run<{ samples: Float32Array }>({ runner, op: 'double', payload: { samples: new Float32Array([1]) } });
      expect(Array.from(speech.samples)).toEqual([2]);
      expect(transcriptionDone).toBe(false);
      Atomics.store(closed, 0, 1);
      Atomics.notify(closed, 0);
      await long;
    } finally {
      await inference.close();
    }
  });

  it('sizes each pool from inference.pools, else inference.workers', async () => {
    const { createInference } = await import('../../src/inference/index.ts');
    const { validateConfig } = await import('../../src/config/index.ts');
    const inference = createInference(validateConfig({ dataDir: '/nonexistent-agentphone', inference: { workers: 1, pools: { stt: 2 } } }), silentLogger(), new Registry());
    try {
      expect(inference.pools.stt.threads).toBe(2);
      expect(inference.pools.tts.threads).toBe(1);
    } finally {
      await inference.close();
    }
  });
});
