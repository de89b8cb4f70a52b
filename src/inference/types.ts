import type { InferenceSession } from 'onnxruntime-node';
import type { MODEL_DTYPES } from '../config/index.ts';

export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** How one model's sessions are created (resolved from the per-model and default config). */
export interface SessionSettings {
  provider: 'auto' | 'cuda' | 'cpu';
  deviceId: number;
  intraOpThreads: number;
  interOpThreads: number;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  memoryArena: boolean;
  /** CUDA provider settings onnxruntime-node applies (inference.session.cuda); absent = defaults. */
  cuda?: { weightsOutsideArena: boolean };
}

/** Everything a worker needs to know about a model; plain data, so it crosses threads. */
export interface ModelRuntime {
  name: string;
  family: string;
  dir: string;
  dtype: ModelDtype;
  session: SessionSettings;
}

/** A message a worker hands back for the main thread's logger (workers have none of their own). */
export interface WorkerNote {
  level: 'info' | 'warn' | 'error';
  msg: string;
  /** Logged at most once per key over the pool's life. */
  onceKey?: string;
  fields?: Record<string, string | number | boolean>;
}

/** What a runner op sees in the worker. */
export interface TaskContext {
  readonly model: ModelRuntime | null;
  /** A session for a file of the model (relative to its dir), created once per worker. */
  session(file: string): Promise<InferenceSession>;
  /** True once the caller has gone away; check it between steps and stop early. */
  cancelled(): boolean;
  /** Throws TaskCancelledError-shaped error when cancelled. */
  throwIfCancelled(): void;
  /** Hands these buffers back by transfer with the result (never copied). */
  transfer(...buffers: ArrayBufferLike[]): void;
  note(note: WorkerNote): void;
  /** A per-worker cache for things built once per model (tokenizers, configs). */
  cached<T>(key: string, build: () => T | Promise<T>): Promise<T>;
}

export type RunnerOp = (payload: never, ctx: TaskContext) => Promise<unknown> | unknown;

/** A worker-side runner module: `export const ops = { encode, decode }`. */
export interface RunnerModule {
  ops: Record<string, RunnerOp>;
}

/** What the pool sends a worker. */
export interface WorkerTask {
  runner: string;
  op: string;
  model: ModelRuntime | null;
  payload: unknown;
  /** Int32Array over a SharedArrayBuffer: [0] = 1 once cancelled. */
  cancel: Int32Array;
}

export interface WorkerReply {
  value: unknown;
  notes: WorkerNote[];
  /** Seconds the op itself took in the worker (queue time excluded). */
  runS: number;
}

/** The error name a worker throws when it stops because its task was cancelled. */
export const CANCELLED_ERROR_NAME = 'InferenceCancelled';
