import { TaskCancelledError } from './errors.ts';

export interface BatcherOptions<I, O> {
  maxBatch: number;
  maxWaitMs: number;
  /** Runs one batch; resolves with one output per input, in order. */
  run(key: string, inputs: I[], signal: AbortSignal): Promise<O[]>;
  onBatch?(key: string, size: number): void;
}

interface Pending<I, O> {
  input: I;
  resolve(value: O): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Groups concurrent requests with the same key (the model) into one batch: a batch leaves
 * when it is full or when its first request has waited maxWaitMs. A request aborted while
 * waiting leaves its batch; a batch whose every request was aborted is cancelled.
 */
export class DynamicBatcher<I, O> {
  private readonly open = new Map<string, { items: Pending<I, O>[]; timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly options: BatcherOptions<I, O>) {}

  submit(key: string, input: I, signal?: AbortSignal): Promise<O> {
    if (signal?.aborted) return Promise.reject(new TaskCancelledError());
    return new Promise<O>((resolve, reject) => {
      let batch = this.open.get(key);
      if (!batch) {
        batch = { items: [], timer: undefined };
        this.open.set(key, batch);
        const b = batch;
        b.timer = setTimeout(() => this.flush(key, b), this.options.maxWaitMs);
      }
      const item: Pending<I, O> = { input, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        item.onAbort = () => {
          const current = this.open.get(key);
          if (current) current.items = current.items.filter((x) => x !== item);
          reject(new TaskCancelledError());
        };
        signal.addEventListener('abort', item.onAbort, { once: true });
      }
      batch.items.push(item);
      if (batch.items.length >= this.options.maxBatch) this.flush(key, batch);
    });
  }

  private flush(key: string, batch: { items: Pending<I, O>[]; timer: NodeJS.Timeout | undefined }): void {
    if (this.open.get(key) === batch) this.open.delete(key);
    clearTimeout(batch.timer);
    const items = batch.items;
    for (const item of items) if (item.onAbort) item.signal?.removeEventListener('abort', item.onAbort);
    if (items.length === 0) return;
    this.options.onBatch?.(key, items.length);
    // The batch is cancelled only when every request in it has gone away.
    const controller = new AbortController();
    let live = items.length;
    for (const item of items) {
      item.signal?.addEventListener(
        'abort',
        () => {
          item.reject(new TaskCancelledError());
          if (--live === 0) controller.abort();
        },
        { once: true },
      );
    }
    this.options.run(key, items.map((i) => i.input), controller.signal).then(
      (outputs) => items.forEach((item, i) => item.resolve(outputs[i] as O)),
      (err: unknown) => items.forEach((item) => item.reject(err)),
    );
  }
}
