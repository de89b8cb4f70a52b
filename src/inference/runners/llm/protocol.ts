import type { ModelRuntime } from '../../types.ts';
import type { SamplingParams } from './sampling.ts';

/** Messages between a LocalLlm (main thread) and its decode-loop thread. */

export interface GenerateParams {
  sampling: SamplingParams;
  seed: number;
  maxTokens: number;
  /** Token ids that end the sequence (not emitted). */
  stopTokens: number[];
}

export interface NewSequence {
  id: number;
  prompt: Int32Array;
  params: GenerateParams;
}

export type ToWorker =
  | { type: 'init'; model: ModelRuntime; file: string; maxBatch: number }
  /** Every generation started in one main-thread tick, in one message: the loop admits them at the same step. */
  | { type: 'add'; sequences: NewSequence[] }
  | { type: 'cancel'; id: number }
  | { type: 'stats' }
  /** Finish the step under way, release the session and exit (terminating a worker inside session.run aborts the process). */
  | { type: 'close' };

export type FinishReason = 'stop' | 'length' | 'cancelled' | 'error';

export interface LoopStats {
  steps: number;
  /** Sum over steps of the batch size (÷ steps = mean batch). */
  batchedTokens: number;
  maxBatchSeen: number;
  /** Logit values copied back from all runs (prefill: vocab × prompt length, or × 1 with num_logits_to_keep). */
  logitValues: number;
  /** Bytes of every tensor fed to / fetched from the session: the host→device and device→host copies of each run on the CUDA provider. */
  fedBytes: number;
  fetchedBytes: number;
}

export type FromWorker =
  | { type: 'ready'; provider: string; layers: number; kvHeads: number; headDim: number; vocabSize: number }
  | { type: 'fatal'; message: string }
  | { type: 'step'; tokens: Array<[id: number, token: number]>; done: Array<[id: number, reason: FinishReason, message?: string]> }
  | { type: 'stats'; stats: LoopStats };
