import type { Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import { InferenceMetrics } from './metrics.ts';
import { InferencePool } from './pool.ts';
import { ModelRegistry } from './registry.ts';

/** The pool, the model registry and the metrics, as the gateway wires them. */
export interface Inference {
  pool: InferencePool;
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
  const pool = new InferencePool({ workers: config.inference.workers, maxQueue: config.inference.maxQueue, logger: log, metrics });
  for (const m of models.list()) {
    if (m.installed && m.test) log.warn({ model: m.name }, 'serving a generated test model: its output is noise');
  }
  return { pool, registry: models, metrics, logger: log, config: config.inference, close: () => pool.close() };
}
