import { AgentPhoneError, type AgentPhoneErrorOptions } from '../errors/index.ts';

/** Inference failures. 503 for what a retry later may fix (queue full, model missing, worker lost). */
export class InferenceError extends AgentPhoneError {
  constructor(code: string, message: string, options: AgentPhoneErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The exact message the API promises when a model's files are absent; a retry cannot install it, so it is not retryable. */
export class ModelNotInstalledError extends InferenceError {
  constructor(readonly model: string) {
    super('MODEL_NOT_INSTALLED', `model ${model} is not installed: run agentphone models pull ${model}`, { status: 503, retryable: false });
  }
}

/** 404 on every route that takes a model (the API answers it as OpenAI's model_not_found). */
export class UnknownModelError extends InferenceError {
  constructor(model: string, known: readonly string[], scope?: string) {
    super('UNKNOWN_MODEL', `model "${model}" does not exist; available${scope ? ` ${scope}` : ''}: ${known.join(', ') || 'none'}`, { status: 404 });
  }
}

export class QueueFullError extends InferenceError {
  constructor(queued: number) {
    super('INFERENCE_QUEUE_FULL', `the inference queue is full (${queued} tasks waiting); try again shortly`, { status: 503, retryable: true });
  }
}

/** The caller went away (client disconnect) before its task finished. */
export class TaskCancelledError extends InferenceError {
  constructor() {
    super('INFERENCE_CANCELLED', 'the inference task was cancelled', { status: 499 });
  }
}

/** A worker thread died while running the task; the pool has already replaced it. */
export class WorkerCrashedError extends InferenceError {
  constructor(cause: unknown) {
    super('INFERENCE_WORKER_CRASHED', 'the inference worker stopped unexpectedly while running this request; try again', {
      status: 503,
      retryable: true,
      cause,
    });
  }
}

/** The model ran but failed (bad input shape, corrupt file). */
export class InferenceFailedError extends InferenceError {
  constructor(message: string, cause?: unknown) {
    super('INFERENCE_FAILED', message, { status: 500, cause });
  }
}
