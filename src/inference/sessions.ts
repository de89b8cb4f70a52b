import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import type { ModelRuntime, SessionSettings, WorkerNote } from './types.ts';

/**
 * onnxruntime session options from our settings, for one execution provider: exactly what
 * createSession hands InferenceSession.create. The CUDA entry carries only deviceId because
 * that is all onnxruntime-node's binding reads from it (see inference.session.cuda in
 * src/config/inference.ts); weightsOutsideArena goes through `extra`, which the binding passes
 * on as session config entries.
 */
export function sessionOptions(settings: SessionSettings, provider: 'cuda' | 'cpu'): InferenceSession.SessionOptions {
  const weightsOutsideArena = provider === 'cuda' && settings.cuda?.weightsOutsideArena === true;
  return {
    executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: settings.deviceId }] : ['cpu'],
    ...(weightsOutsideArena && { extra: { session: { use_device_allocator_for_initializers: '1' } } }),
    graphOptimizationLevel: settings.graphOptimization,
    enableCpuMemArena: settings.memoryArena,
    enableMemPattern: settings.memoryArena,
    ...(settings.intraOpThreads > 0 && { intraOpNumThreads: settings.intraOpThreads }),
    ...(settings.interOpThreads > 0 && { interOpNumThreads: settings.interOpThreads }),
  };
}

/**
 * Why CUDA cannot load here, when that is knowable without trying: onnxruntime-node's npm
 * package has no CUDA provider; its install script downloads the provider libraries (which
 * allowScripts keeps from running and npm ci removes; docs/inference.md). Trying anyway makes
 * onnxruntime print a native error line on every session.
 */
export function cudaUnavailableReason(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    const missing = CUDA_PROVIDER_LIBS.filter((f) => !existsSync(join(bin, f)));
    if (missing.length > 0) return `onnxruntime-node CUDA provider libraries are not installed (${missing.join(', ')} missing)`;
  } catch {
    return null;
  }
  return null;
}

/** What onnxruntime-node's CUDA download puts beside its binding, both needed to load the provider (tensorrt's is not). */
const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

/**
 * Creates a session on CUDA where asked (or auto) and its libraries load, else on CPU.
 * ['cuda', 'cpu'] does not fall back by itself when the CUDA provider fails to load, so the
 * CUDA attempt is made alone, its failure noted (logged once per model), then CPU is used.
 */
export async function createSession(model: ModelRuntime, file: string, notes: WorkerNote[]): Promise<{ session: InferenceSession; provider: 'cuda' | 'cpu' }> {
  const path = join(model.dir, file);
  const { provider } = model.session;
  const missing = provider === 'cpu' ? null : cudaUnavailableReason();
  if (missing) {
    notes.push({ level: provider === 'cuda' ? 'warn' : 'info', msg: 'CUDA execution provider unavailable; running this model on CPU', onceKey: `cuda-fallback:${model.name}`, fields: { model: model.name, reason: missing } });
  } else if (provider === 'cuda' || provider === 'auto') {
    try {
      return { session: await InferenceSession.create(path, sessionOptions(model.session, 'cuda')), provider: 'cuda' };
    } catch (err) {
      notes.push({
        level: provider === 'cuda' ? 'warn' : 'info',
        msg: 'CUDA execution provider unavailable; running this model on CPU',
        onceKey: `cuda-fallback:${model.name}`,
        fields: { model: model.name, reason: firstLine(err) },
      });
    }
  }
  return { session: await InferenceSession.create(path, sessionOptions(model.session, 'cpu')), provider: 'cpu' };
}

/**
 * Whether `provider` loads on this host: a one-node model is opened with the same options a
 * model gets (the CUDA provider loads its libraries, cuDNN included, and selects the device).
 * Returns null when it loads, else the first line of onnxruntime's error.
 */
export async function probeProvider(settings: SessionSettings, provider: 'cuda' | 'cpu'): Promise<string | null> {
  try {
    const session = await InferenceSession.create(IDENTITY_MODEL, sessionOptions(settings, provider));
    await session.release();
    return null;
  } catch (err) {
    return firstLine(err);
  }
}

/** y = Identity(x), x float [1]: the generator's serialization of that graph, kept as bytes so probing loads no generator. */
const IDENTITY_MODEL = Uint8Array.from(
  Buffer.from('CAgSFGFnZW50cGhvbmUtZ2VuZXJhdG9yOkkKHgoBeBIBeRoMbl9JZGVudGl0eV8xIghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAR', 'base64'),
);

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 300) ?? 'unknown';
}
