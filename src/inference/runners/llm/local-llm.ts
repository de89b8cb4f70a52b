import { Worker } from 'node:worker_threads';
import { InferenceError } from '../../errors.ts';
import type { ModelRuntime } from '../../types.ts';
import type { FinishReason, FromWorker, GenerateParams, LoopStats, NewSequence, ToWorker } from './protocol.ts';

/** Tokens of one sequence as they come, then why it ended. */
class TokenChannel implements AsyncIterable<number> {
  private readonly queue: number[] = [];
  private wake: (() => void) | undefined;
  reason: FinishReason | undefined;
  error: string | undefined;

  push(token: number): void {
    this.queue.push(token);
    this.wake?.();
  }

  end(reason: FinishReason, error?: string): void {
    this.reason = reason;
    this.error = error;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<number> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift() as number;
      if (this.reason !== undefined) {
        if (this.reason === 'error') throw new InferenceError('GENERATION_FAILED', `generation failed: ${this.error ?? 'unknown error'}`, { status: 500 });
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

export interface Generation extends AsyncIterable<number> {
  /** Why it ended, once the iteration is over. */
  readonly reason: FinishReason | undefined;
}

/**
 * A local decoder-only model served by its own decode-loop thread (continuous batching:
 * concurrent generations share each step). Started on first use; closed with the gateway.
 */
export class LocalLlm {
  private readonly channels = new Map<number, TokenChannel>();
  private nextId = 1;
  private statsWaiters: Array<(s: LoopStats) => void> = [];
  private failure: string | undefined;
  private exited = false;
  /** Generations started this tick, posted together (see `post`). */
  private adds: NewSequence[] = [];

  private constructor(
    private readonly worker: Worker,
    readonly model: string,
    readonly provider: string,
    /** Sequences decoding or waiting for a batch slot; past this, generate() answers 503. */
    private readonly maxInFlight: number,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(`decode loop exited (code ${code})`);
    });
  }

  static async start(runtime: ModelRuntime, options: { maxBatch: number; file?: string; maxInFlight?: number }): Promise<LocalLlm> {
    const worker = new Worker(new URL('./llm-worker-entry.mjs', import.meta.url));
    const ready = await new Promise<FromWorker & { type: 'ready' }>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'fatal') reject(new InferenceError('MODEL_LOAD', `model ${runtime.name} could not be loaded: ${m.message}`, { status: 503 }));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.postMessage({ type: 'init', model: runtime, file: options.file ?? 'onnx/model.onnx', maxBatch: options.maxBatch } satisfies ToWorker);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    worker.removeAllListeners('message');
    worker.removeAllListeners('error');
    return new LocalLlm(worker, runtime.name, ready.provider, options.maxInFlight ?? options.maxBatch * 8);
  }

  /** Generates from `prompt`; aborting the signal drops the sequence at the next step. */
  generate(prompt: readonly number[], params: GenerateParams, signal?: AbortSignal): Generation {
    if (this.failure) throw new InferenceError('MODEL_DOWN', `model ${this.model} is unavailable: ${this.failure}`, { status: 503, retryable: true });
    if (this.channels.size >= this.maxInFlight) {
      throw new InferenceError('MODEL_BUSY', `model ${this.model} is at capacity (${this.channels.size} sequences in flight); try again shortly`, { status: 503, retryable: true });
    }
    const id = this.nextId++;
    const channel = new TokenChannel();
    this.channels.set(id, channel);
    const cancel = () => this.post({ type: 'cancel', id });
    signal?.addEventListener('abort', cancel, { once: true });
    if (this.adds.length === 0) queueMicrotask(() => this.flushAdds());
    this.adds.push({ id, prompt: Int32Array.from(prompt), params });
    const channels = this.channels;
    return {
      get reason() {
        return channel.reason;
      },
      async *[Symbol.asyncIterator]() {
        try {
          yield* channel;
        } finally {
          signal?.removeEventListener('abort', cancel);
          // A consumer that stops early (a stop string) ends the sequence in the loop too.
          if (channel.reason === undefined) cancel();
          else channels.delete(id);
        }
      },
    };
  }

  stats(): Promise<LoopStats> {
    return new Promise((resolve) => {
      this.statsWaiters.push(resolve);
      this.post({ type: 'stats' });
    });
  }

  /** Ends every sequence, lets the loop finish its step and exit; terminates it only if it hangs. */
  async close(graceMs = 10_000): Promise<void> {
    this.fail('shutting down');
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.post({ type: 'close' });
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /**
   * Generations started in the same tick reach the loop as one message, so they join the same
   * step however late the loop thread wakes; any other message goes after them, in order.
   */
  private post(m: ToWorker): void {
    this.flushAdds();
    this.worker.postMessage(m);
  }

  private flushAdds(): void {
    if (this.adds.length === 0) return;
    const sequences = this.adds;
    this.adds = [];
    this.worker.postMessage({ type: 'add', sequences } satisfies ToWorker);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'step') {
      for (const [id, token] of m.tokens) this.channels.get(id)?.push(token);
      for (const [id, reason, message] of m.done) {
        this.channels.get(id)?.end(reason, message);
        this.channels.delete(id);
      }
    } else if (m.type === 'stats') {
      for (const w of this.statsWaiters.splice(0)) w(m.stats);
    }
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    for (const c of this.channels.values()) c.end('error', reason);
    this.channels.clear();
  }
}
