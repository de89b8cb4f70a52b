import { performance } from 'node:perf_hooks';
import type { InferenceSession } from 'onnxruntime-node';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { createSession } from './sessions.ts';
import { CANCELLED_ERROR_NAME, type RunnerModule, type TaskContext, type WorkerNote, type WorkerReply, type WorkerTask } from './types.ts';

/*
 * Runs in each piscina worker thread. Sessions, runner modules and per-model caches live for
 * the worker's life: a model's sessions are created on its first task and reused after.
 */

const runners = new Map<string, Promise<RunnerModule>>();
const sessions = new Map<string, Promise<InferenceSession>>();
const caches = new Map<string, Promise<unknown>>();

function cancelledError(): Error {
  const err = new Error('the inference task was cancelled');
  err.name = CANCELLED_ERROR_NAME;
  return err;
}

function loadRunner(url: string): Promise<RunnerModule> {
  let mod = runners.get(url);
  if (!mod) {
    mod = import(url) as Promise<RunnerModule>;
    runners.set(url, mod);
    mod.catch(() => runners.delete(url));
  }
  return mod;
}

class Context implements TaskContext {
  readonly transfers: ArrayBufferLike[] = [];
  readonly notes: WorkerNote[] = [];
  constructor(private readonly task: WorkerTask) {}

  get model() {
    return this.task.model;
  }

  session(file: string): Promise<InferenceSession> {
    const model = this.task.model;
    if (!model) throw new Error('this task names no model');
    const key = `${model.name}\u0000${model.dir}\u0000${file}`;
    let s = sessions.get(key);
    if (!s) {
      s = createSession(model, file, this.notes).then(({ session, provider }) => {
        this.notes.push({ level: 'info', msg: 'inference session created', fields: { model: model.name, file, provider } });
        return session;
      });
      sessions.set(key, s);
      s.catch(() => sessions.delete(key));
    }
    return s;
  }

  cancelled(): boolean {
    return Atomics.load(this.task.cancel, 0) === 1;
  }

  throwIfCancelled(): void {
    if (this.cancelled()) throw cancelledError();
  }

  transfer(...buffers: ArrayBufferLike[]): void {
    for (const b of buffers) if (!this.transfers.includes(b)) this.transfers.push(b);
  }

  note(note: WorkerNote): void {
    this.notes.push(note);
  }

  cached<T>(key: string, build: () => T | Promise<T>): Promise<T> {
    const full = `${this.task.model?.name ?? ''}\u0000${this.task.model?.dir ?? ''}\u0000${key}`;
    let v = caches.get(full) as Promise<T> | undefined;
    if (!v) {
      v = Promise.resolve().then(build);
      caches.set(full, v);
      v.catch(() => caches.delete(full));
    }
    return v;
  }
}

export default async function runTask(task: WorkerTask): Promise<unknown> {
  const ctx = new Context(task);
  ctx.throwIfCancelled();
  const started = performance.now();
  const runner = await loadRunner(task.runner);
  const op = runner.ops[task.op];
  if (!op) throw new Error(`runner has no op "${task.op}"`);
  const value = await op(task.payload as never, ctx);
  const reply: WorkerReply = { value, notes: ctx.notes, runS: (performance.now() - started) / 1000 };
  return move({ [transferableSymbol]: ctx.transfers, [valueSymbol]: reply } as never);
}
