import type { Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import { InferenceMetrics } from './metrics.ts';
import { InferencePool } from './pool.ts';
import { ModelRegistry } from './registry.ts';

/** The pools a model family runs on: Whisper and upload decoding on `stt`, SNAC on `tts`. */
export type PoolName = 'stt' | 'tts';

/** The pools, the model registry and the metrics, as the gateway wires them. */
export interface Inference {
  /**
   * One worker pool per kind of work, so a long transcription (encoder batches, hundreds of
   * decoder steps) never holds up the SNAC windows a caller is waiting to hear.
   */
  pools: Readonly<Record<PoolName, InferencePool>>;
  registry: ModelRegistry;
  metrics: InferenceMetrics;
  logger: Logger;
  config: Readonly<Config['inference']>;
  close(): Promise<void>;
}

/** Starts the worker threads; only the gateway does this (the CLI's offline core never does). */
export function createInference(config: Readonly<Config>, logger: Logger, registry: Registry): Inference {
  const log = logger.child({ mod: 'inference' });
  const metrics = new InferenceMetrics(registry);
  const models = new ModelRegistry(config.inference, config.dataDir);
  const c = config.inference;
  const pool = (name: PoolName) => new InferencePool({ workers: c.pools[name] ?? c.workers, maxQueue: c.maxQueue, logger: log.child({ pool: name }), metrics });
  const pools = { stt: pool('stt'), tts: pool('tts') };
  for (const m of models.list()) {
    if (m.installed && m.test) log.warn({ model: m.name }, 'serving a generated test model: its output is noise');
  }
  return { pools, registry: models, metrics, logger: log, config: c, close: async () => void (await Promise.all([pools.stt.close(), pools.tts.close()])) };
}
