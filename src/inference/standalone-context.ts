import type { TaskContext } from './types.ts';

/**
 * A TaskContext for driving a runner's pieces (WindowDecoder...) outside a pool worker, as
 * benchmarks and tests do: never cancelled, sessions passed in directly, no per-worker cache.
 */
export function standaloneTaskContext(): TaskContext {
  return {
    model: null,
    session: () => Promise.reject(new Error('standalone context: pass sessions directly')),
    cancelled: () => false,
    throwIfCancelled: () => undefined,
    transfer: () => undefined,
    note: () => undefined,
    cached: (_key, build) => Promise.resolve(build()),
  };
}
