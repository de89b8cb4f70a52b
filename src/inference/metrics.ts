import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Queue depth, batch sizes and per-stage latency of the inference pool, on the app's registry. */
export class InferenceMetrics {
  private queueSize: () => number = () => 0;
  private readonly tasks: Counter<'model' | 'stage' | 'outcome'>;
  private readonly latency: Histogram<'model' | 'stage'>;
  private readonly runLatency: Histogram<'model' | 'stage'>;
  private readonly batchSize: Histogram<'model'>;
  readonly stageLatency: Histogram<'model' | 'stage'>;

  constructor(registry: Registry) {
    const depth = () => this.queueSize();
    new Gauge({
      name: 'agentphone_inference_queue_depth',
      help: 'Inference tasks waiting for a worker',
      registers: [registry],
      collect() {
        this.set(depth());
      },
    });
    this.tasks = new Counter({
      name: 'agentphone_inference_tasks_total',
      help: 'Inference tasks by model, stage and outcome',
      labelNames: ['model', 'stage', 'outcome'] as const,
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'agentphone_inference_task_seconds',
      help: 'Inference task time from submission to result (queue wait included)',
      labelNames: ['model', 'stage'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.runLatency = new Histogram({
      name: 'agentphone_inference_run_seconds',
      help: 'Inference task time inside the worker',
      labelNames: ['model', 'stage'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.batchSize = new Histogram({
      name: 'agentphone_inference_batch_size',
      help: 'Requests run together in one encoder batch',
      labelNames: ['model'] as const,
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32],
      registers: [registry],
    });
    this.stageLatency = new Histogram({
      name: 'agentphone_inference_stage_seconds',
      help: 'Per-request pipeline stages (audio decode, features, encode, decode, total)',
      labelNames: ['model', 'stage'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** Adds a pool's queue to the queue-depth gauge (the gauge is the sum over the pools). */
  bindQueue(size: () => number): void {
    const before = this.queueSize;
    this.queueSize = () => before() + size();
  }

  taskDone(model: string, stage: string, outcome: string, totalS: number, runS?: number): void {
    this.tasks.inc({ model, stage, outcome });
    this.latency.observe({ model, stage }, totalS);
    if (runS !== undefined) this.runLatency.observe({ model, stage }, runS);
  }

  batch(model: string, size: number): void {
    this.batchSize.observe({ model }, size);
  }

  stage(model: string, stage: string, seconds: number): void {
    this.stageLatency.observe({ model, stage }, seconds);
  }
}
