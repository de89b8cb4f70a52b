import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Parts, StepBytes } from './step-bytes.ts';

/*
 * Counts what crosses the session boundary on each run: the bytes of every tensor fed and of
 * every output fetched. With the CUDA provider onnxruntime-node has no device-resident tensors,
 * so these are the host→device and device→host copies of each step (bench/gpu-io.ts prints
 * them; tests use them to prove an output is no longer fetched). Diagnostic only: no runner
 * wraps its sessions with it in production.
 */

/** Bytes per input fed and per output fetched, as step-bytes.ts predicts them. */
export interface RunIo extends StepBytes {
  /** The fetch list the caller passed; null when it fetched every output. */
  fetchNames: readonly string[] | null;
}

export interface MeteredSession {
  session: InferenceSession;
  runs: RunIo[];
}

export const tensorBytes = (t: Tensor): number => (t.data as ArrayBufferView).byteLength;

/**
 * `session` with run() recording each run's I/O. `fetchAll` ignores the caller's fetch list and
 * fetches every output, as a caller without one does: the baseline a fetch list is compared to.
 */
export function meterSession(session: InferenceSession, options: { fetchAll?: boolean } = {}): MeteredSession {
  const runs: RunIo[] = [];
  const run = async (feeds: InferenceSession.FeedsType, fetches?: InferenceSession.FetchesType | InferenceSession.RunOptions, runOptions?: InferenceSession.RunOptions) => {
    const names = Array.isArray(fetches) ? (fetches as readonly string[]) : null;
    const out =
      names === null
        ? await session.run(feeds, fetches as InferenceSession.RunOptions | undefined)
        : options.fetchAll
          ? await session.run(feeds, runOptions)
          : await session.run(feeds, names, runOptions);
    const fed: Parts = {};
    for (const [name, t] of Object.entries(feeds)) fed[name] = tensorBytes(t as Tensor);
    const fetched: Parts = {};
    for (const [name, t] of Object.entries(out)) fetched[name] = tensorBytes(t as Tensor);
    runs.push({ fed, fetched, fetchNames: options.fetchAll ? null : names });
    return out;
  };
  const metered = new Proxy(session, {
    get(target, prop) {
      if (prop === 'run') return run;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { session: metered, runs };
}
