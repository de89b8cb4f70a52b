import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import type { Logger } from '../logging/index.ts';
import { InferenceError, InferenceFailedError, QueueFullError, TaskCancelledError, WorkerCrashedError } from './errors.ts';
import type { InferenceMetrics } from './metrics.ts';
import { CANCELLED_ERROR_NAME, type ModelRuntime, type WorkerReply, type WorkerTask } from './types.ts';

export interface InferencePoolOptions {
  /** Worker threads (each holds its own sessions). */
  workers: number;
  /** Tasks that may wait for a worker; past this, run() rejects with 503. */
  maxQueue: number;
  logger: Logger;
  metrics?: InferenceMetrics;
  /** The worker file; tests may point at another. */
  filename?: string;
}

/** One unit of work for a worker: `ops[op](payload)` of the runner module at `runner`. */
export interface PoolTask<P = unknown> {
  /** URL of a worker-side runner module (`import.meta.resolve('./runner.ts')` or a file URL). */
  runner: string;
  op: string;
  model?: ModelRuntime;
  payload: P;
}

export interface PoolRunOptions {
  /** Buffers in `payload` to move to the worker (they become detached here). */
  transfer?: readonly ArrayBufferLike[];
  /** Aborting cancels the task: dropped while queued, stopped at its next step while running. */
  signal?: AbortSignal;
  /** Label for the latency metric (defaults to the op name). */
  stage?: string;
}

const DEFAULT_WORKER = new URL('./worker-entry.mjs', import.meta.url).href;

/**
 * The piscina pool every model runs on. No inference happens on the main thread: callers
 * hand over typed arrays by transfer and get typed arrays back the same way.
 */
export class InferencePool {
  private readonly piscina: Piscina;
  private readonly logged = new Set<string>();
  /** Cancel flags of tasks not yet settled: set on close so running work stops at its next step. */
  private readonly live = new Set<Int32Array>();
  private closed = false;

  constructor(private readonly options: InferencePoolOptions) {
    this.piscina = new Piscina({
      filename: options.filename ?? DEFAULT_WORKER,
      minThreads: options.workers,
      maxThreads: options.workers,
      maxQueue: options.maxQueue,
      // Runner ops await onnxruntime promises: workers must not block in Atomics.wait.
      atomics: 'disabled',
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
    });
    this.piscina.on('error', (err: unknown) => options.logger.error({ err }, 'inference worker error'));
    options.metrics?.bindQueue(() => this.piscina.queueSize);
  }

  get queueSize(): number {
    return this.piscina.queueSize;
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  async run<R>(task: PoolTask, options: PoolRunOptions = {}): Promise<R> {
    if (this.closed) throw new InferenceError('INFERENCE_STOPPED', 'the inference pool is shutting down', { status: 503, retryable: true });
    const { signal } = options;
    if (signal?.aborted) throw new TaskCancelledError();
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    this.live.add(cancel);
    const message: WorkerTask = { runner: task.runner, op: task.op, model: task.model ?? null, payload: task.payload, cancel };
    const stage = options.stage ?? task.op;
    const model = task.model?.name ?? '-';
    const started = performance.now();

    // Aborting rejects the caller at once; the flag tells the worker to skip or stop the task,
    // so a running session is never torn down with its thread.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        Atomics.store(cancel, 0, 1);
        reject(new TaskCancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);

    const work = this.piscina.run(message, { transferList: [...(options.transfer ?? [])] as never }) as Promise<WorkerReply>;
    work.catch(() => undefined);
    try {
      const reply = await (signal ? Promise.race([work, aborted]) : work);
      this.handleNotes(reply);
      this.options.metrics?.taskDone(model, stage, 'ok', (performance.now() - started) / 1000, reply.runS);
      return reply.value as R;
    } catch (err) {
      const mapped = this.mapError(err);
      this.options.metrics?.taskDone(model, stage, mapped.code, (performance.now() - started) / 1000);
      throw mapped;
    } finally {
      this.live.delete(cancel);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private mapError(err: unknown): InferenceError {
    if (err instanceof TaskCancelledError) return err;
    const e = err as Error;
    if (e?.name === CANCELLED_ERROR_NAME) return new TaskCancelledError();
    if (e?.message === 'Task queue is at limit') return new QueueFullError(this.piscina.queueSize);
    if (this.closed && e?.name === 'AbortError') return new InferenceError('INFERENCE_STOPPED', 'the inference pool is shutting down', { status: 503, retryable: true });
    if (e?.message === 'Terminating worker thread' || /worker (exited|terminated)|exited with code/i.test(e?.message ?? '')) {
      this.options.logger.error({ err: e.message }, 'inference worker crashed; replaced');
      return new WorkerCrashedError(err);
    }
    this.options.logger.error({ err }, 'inference task failed');
    return new InferenceFailedError('the model failed to process this input', err);
  }

  private handleNotes(reply: WorkerReply): void {
    for (const note of reply.notes) {
      if (note.onceKey !== undefined) {
        if (this.logged.has(note.onceKey)) continue;
        this.logged.add(note.onceKey);
      }
      this.options.logger[note.level]({ mod: 'inference', ...note.fields }, note.msg);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const flag of this.live) Atomics.store(flag, 0, 1);
    await this.piscina.close({ force: true });
  }
}
