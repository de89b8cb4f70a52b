import type { UpstreamConfig } from '../../config/index.ts';
import { AgentPhoneError, UnavailableError, ValidationError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { readBoundedBody } from '../../net/index.ts';
import { UpstreamCall } from './call.ts';
import type { UpstreamMetrics } from './metrics.ts';
import { Slots } from './slots.ts';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface ReplicaSetOptions {
  logger: Logger;
  fetch?: FetchLike;
  metrics?: UpstreamMetrics;
  nowMs?: () => number;
}

/** No replica of an upstream model could answer (each was down, failed or full): the local model may. */
export class UpstreamsExhaustedError extends UnavailableError {}

/** One engine of a replica set: its own slots, and whether it is passed over for now. */
export class Replica {
  readonly label: string;
  readonly slots: Slots;
  /** Requests started here, the tie-break between equally busy replicas. */
  started = 0;
  /** The last health check passed (or none ran yet). */
  healthy = true;
  /** Passed over until this time after it could not be reached. */
  downUntilMs = 0;

  constructor(
    readonly base: string,
    config: Readonly<UpstreamConfig>,
    several: boolean,
  ) {
    this.label = new URL(base).host;
    this.slots = new Slots(config.maxConcurrency, config.maxQueued, `the upstream engine for ${config.model}${several ? ` at ${this.label}` : ''}`);
  }

  up(nowMs: number): boolean {
    return this.healthy && nowMs >= this.downUntilMs;
  }

  get load(): number {
    return this.slots.active + this.slots.queued;
  }
}

/** A request that got a replica's answer headers: release the slot with done() once read. */
export interface Held<T> {
  value: T;
  call: UpstreamCall;
  replica: Replica;
  done(): void;
}

/** What the engine answered that is not a success, kept with its status for the failover decision. */
class Refused extends Error {
  constructor(
    readonly status: number,
    readonly mapped: AgentPhoneError,
  ) {
    super(mapped.message);
  }
}

const ERROR_BODY_LIMIT = 4096;

/**
 * The engines serving one upstream model. A request goes to the least busy replica that is up;
 * one that fails before its answer was read (cannot connect, resets, times out, answers 5xx or
 * 429, or is full) is retried on the next, and when none is left the error says so as an
 * UpstreamsExhaustedError. Health checks (GET <baseUrl>/models) mark replicas down and up again.
 */
export class ReplicaSet {
  readonly model: string;
  readonly replicas: readonly Replica[];
  private readonly fetch: FetchLike;
  private readonly logger: Logger;
  private readonly metrics: UpstreamMetrics | undefined;
  private readonly nowMs: () => number;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private firstRound: Promise<void> | undefined;

  constructor(
    readonly config: Readonly<UpstreamConfig>,
    options: ReplicaSetOptions,
  ) {
    this.model = config.model;
    const bases = [config.baseUrl, ...config.replicas].map((b) => b.replace(/\/+$/, ''));
    const unique = [...new Set(bases)];
    this.replicas = unique.map((b) => new Replica(b, config, unique.length > 1));
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.logger = options.logger.child({ mod: 'upstream', model: config.model });
    this.metrics = options.metrics;
    this.nowMs = options.nowMs ?? Date.now;
    this.metrics?.watch(this);
  }

  /** Each replica's label, whether it is up and its requests in flight (read by the gauges). */
  replicaStates(): Array<{ label: string; up: boolean; inFlight: number }> {
    const now = this.nowMs();
    return this.replicas.map((r) => ({ label: r.label, up: r.up(now), inFlight: r.slots.active }));
  }

  /** Starts the periodic health checks (the first one now); no-op when healthIntervalMs is 0. */
  start(): void {
    if (this.config.healthIntervalMs === 0 || this.timer) return;
    this.firstRound = this.checkHealth();
    this.timer = setInterval(() => void this.checkHealth(), this.config.healthIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Whether a replica is up now by the health checks and request failures, once the first round
   * of checks has finished (so an engine is not counted before it was asked); with the checks
   * off, by request failures alone.
   */
  async answering(): Promise<boolean> {
    await this.firstRound;
    const now = this.nowMs();
    return this.replicas.some((r) => r.up(now));
  }

  /** One round of health checks over every replica (a round still running is joined). */
  checkHealth(): Promise<void> {
    this.checking ??= Promise.all(this.replicas.map((r) => this.checkReplica(r))).then(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkReplica(replica: Replica): Promise<void> {
    let ok: boolean;
    try {
      const res = await this.fetch(`${replica.base}/models`, {
        method: 'GET',
        headers: this.authHeaders(),
        signal: AbortSignal.timeout(this.config.healthTimeoutMs),
      });
      await res.body?.cancel();
      ok = res.ok;
    } catch {
      ok = false;
    }
    if (!ok) this.metrics?.failure(this.model, replica.label, 'health');
    if (ok && replica.healthy && replica.downUntilMs === 0) return;
    if (ok !== replica.healthy) this.logger.info({ replica: replica.label, up: ok }, ok ? 'upstream replica passed its health check' : 'upstream replica failed its health check');
    replica.healthy = ok;
    if (ok) replica.downUntilMs = 0;
  }

  /**
   * Sends a request to the replicas in turn until one answers with a success and `read` has
   * taken what it needs from the answer; `read` failing (a reset while reading the body) moves
   * on too. The held slot is released by done().
   */
  async send<T>(path: string, init: { headers: Record<string, string>; body: NonNullable<RequestInit['body']> }, signal: AbortSignal, read: (res: Response, call: UpstreamCall) => Promise<T>): Promise<Held<T>> {
    const tried = new Set<Replica>();
    let last: AgentPhoneError | undefined;
    for (let replica = this.pick(tried); replica; replica = this.pick(tried)) {
      tried.add(replica);
      let release: () => void;
      try {
        release = await replica.slots.acquire(signal);
      } catch (err) {
        if (signal.aborted || !(err instanceof UnavailableError)) throw err;
        this.metrics?.failure(this.model, replica.label, 'busy');
        last = err;
        continue;
      }
      replica.started++;
      const call = new UpstreamCall(signal, this.config.idleTimeoutMs);
      let released = false;
      const done = () => {
        if (released) return;
        released = true;
        call.finish();
        release();
      };
      try {
        call.armHeaders(this.config.headersTimeoutMs);
        const res = await this.fetch(`${replica.base}${path}`, { method: 'POST', headers: { ...init.headers, ...this.authHeaders() }, body: init.body, signal: call.signal });
        if (!res.ok) throw await this.refusal(res, replica);
        if (!res.body) throw new Refused(502, new UnavailableError(`model ${this.model} is unavailable: its upstream engine at ${replica.label} answered with no body`));
        call.arm();
        const value = await read(res, call);
        this.metrics?.request(this.model, replica.label, 'ok');
        // It answered: whatever a check or an earlier failure said, it is up.
        replica.healthy = true;
        replica.downUntilMs = 0;
        return { value, call, replica, done };
      } catch (err) {
        done();
        if (call.clientGone) throw err instanceof Error ? err : new Error(String(err));
        if (err instanceof Refused && err.status !== 429 && err.status < 500) {
          this.metrics?.request(this.model, replica.label, 'refused');
          throw err.mapped;
        }
        this.metrics?.request(this.model, replica.label, 'failed');
        last = this.failed(replica, err, call);
        if (signal.aborted) throw last;
      }
    }
    if (tried.size === 1 && last) throw new UpstreamsExhaustedError(last.message, { cause: last });
    const why = last ? ` (last: ${last.message})` : '';
    throw new UpstreamsExhaustedError(
      tried.size === 0
        ? `model ${this.model} is unavailable: all ${this.replicas.length} of its upstream engines are down`
        : `model ${this.model} is unavailable: none of its ${this.replicas.length} upstream engines could answer${why}`,
    );
  }

  /** The least busy replica not yet tried: those up first, then (without a local fallback) those down. */
  private pick(tried: ReadonlySet<Replica>): Replica | undefined {
    const now = this.nowMs();
    const left = this.replicas.filter((r) => !tried.has(r));
    const up = left.filter((r) => r.up(now));
    const pool = up.length > 0 || this.config.fallback === 'local' ? up : left;
    let best: Replica | undefined;
    for (const r of pool) {
      if (!best || r.load < best.load || (r.load === best.load && r.started < best.started)) best = r;
    }
    return best;
  }

  private authHeaders(): Record<string, string> {
    return this.config.apiKey === null ? {} : { authorization: `Bearer ${this.config.apiKey}` };
  }

  /** Records a replica's failure (a connection or timeout failure passes it over for downMs). */
  private failed(replica: Replica, err: unknown, call: UpstreamCall): AgentPhoneError {
    if (err instanceof Refused) {
      this.metrics?.failure(this.model, replica.label, 'status');
      return err.mapped;
    }
    if (err instanceof AgentPhoneError) return err;
    let reason: string;
    let message: string;
    if (call.timedOut) {
      reason = 'timeout';
      message = `model ${this.model} is unavailable: its upstream engine at ${replica.label} ${call.timedOut}`;
    } else {
      const cause = err instanceof Error ? ((err.cause as { code?: string; message?: string } | undefined)?.code ?? err.cause ?? err.message) : String(err);
      const why = typeof cause === 'string' ? cause : ((cause as { message?: string }).message ?? 'unknown error');
      reason = 'unreachable';
      message = `model ${this.model} is unavailable: its upstream engine at ${replica.label} cannot be reached (${why})`;
    }
    this.metrics?.failure(this.model, replica.label, reason);
    this.logger.warn({ replica: replica.label, reason }, 'upstream replica failed a request');
    replica.downUntilMs = this.nowMs() + this.config.downMs;
    return new UnavailableError(message, { cause: err });
  }

  private async refusal(res: Response, replica: Replica): Promise<Refused> {
    let reason = '';
    try {
      const { text } = await readBoundedBody(res.body, ERROR_BODY_LIMIT);
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
        reason = typeof parsed.error === 'object' ? (parsed.error.message ?? '') : (parsed.message ?? parsed.detail ?? parsed.error ?? '');
      } catch {
        reason = text;
      }
    } catch {
      // the reason stays empty
    }
    const why = reason ? `: ${String(reason)}` : '';
    this.logger.warn({ status: res.status, replica: replica.label }, 'upstream engine refused a request');
    if (res.status === 400 || res.status === 404 || res.status === 413 || res.status === 422) {
      return new Refused(res.status, new ValidationError(`The upstream engine for ${this.model} refused the request${why}`));
    }
    if (res.status === 401 || res.status === 403) {
      return new Refused(res.status, new UnavailableError(`model ${this.model} is unavailable: its upstream engine refused the gateway's credentials (HTTP ${res.status})`));
    }
    return new Refused(res.status, new UnavailableError(`model ${this.model} is unavailable: its upstream engine answered HTTP ${res.status}${why}`));
  }
}
