import { Counter, Gauge, type Registry } from 'prom-client';

export type UpstreamOutcome = 'ok' | 'refused' | 'failed';

/** One replica as the gauges read it. */
interface ReplicaState {
  label: string;
  up: boolean;
  inFlight: number;
}

/** What the gauges read at each scrape: a replica set's replicas, as they are now. */
export interface WatchedReplicas {
  readonly model: string;
  replicaStates(): ReplicaState[];
}

/** Per-replica counters and gauges of the upstream engines, on the app's registry. */
export class UpstreamMetrics {
  private readonly requests: Counter<'model' | 'replica' | 'outcome'>;
  private readonly failures: Counter<'model' | 'replica' | 'reason'>;
  private readonly fallbacks: Counter<'model'>;
  private readonly watched: WatchedReplicas[] = [];

  constructor(registry: Registry) {
    const watched = this.watched;
    this.requests = new Counter({
      name: 'agentphone_upstream_requests_total',
      help: 'Requests sent to upstream engine replicas, by outcome (ok, refused by the engine as the client fault, failed)',
      labelNames: ['model', 'replica', 'outcome'] as const,
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'agentphone_upstream_failures_total',
      help: 'Upstream replica failures by reason (unreachable, timeout, status, busy, health)',
      labelNames: ['model', 'replica', 'reason'] as const,
      registers: [registry],
    });
    this.fallbacks = new Counter({
      name: 'agentphone_upstream_local_fallbacks_total',
      help: 'Requests served by the local model because no upstream replica could answer',
      labelNames: ['model'] as const,
      registers: [registry],
    });
    // Per-replica gauges read from the watched sets at each scrape.
    const replicaGauge = (name: string, help: string, read: (r: ReplicaState) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['model', 'replica'] as const,
        registers: [registry],
        collect() {
          for (const w of watched) for (const r of w.replicaStates()) this.set({ model: w.model, replica: r.label }, read(r));
        },
      });
    replicaGauge('agentphone_upstream_replica_up', 'Whether an upstream replica is taking requests (1) or passed over as down (0)', (r) => (r.up ? 1 : 0));
    replicaGauge('agentphone_upstream_in_flight', 'Requests in flight to an upstream replica', (r) => r.inFlight);
  }

  /** Adds a replica set to the up and in-flight gauges. */
  watch(replicas: WatchedReplicas): void {
    this.watched.push(replicas);
  }

  request(model: string, replica: string, outcome: UpstreamOutcome): void {
    this.requests.inc({ model, replica, outcome });
  }

  failure(model: string, replica: string, reason: string): void {
    this.failures.inc({ model, replica, reason });
  }

  fallback(model: string): void {
    this.fallbacks.inc({ model });
  }
}
