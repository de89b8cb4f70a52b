import type { Registry } from 'prom-client';
import type { UpstreamConfig } from '../../config/index.ts';
import type { ChatBackend, ChatCompletion, ChatRequest, ChatStream } from '../runners/llm/chat-types.ts';
import { UpstreamEngine } from './engine.ts';
import { UpstreamMetrics } from './metrics.ts';
import { ReplicaSet, UpstreamsExhaustedError, type ReplicaSetOptions } from './replica-set.ts';
import { UpstreamTranscriber } from './transcription.ts';

export type UpstreamKind = 'chat' | 'transcription' | 'speech';

/** What an upstreams entry serves: as configured, else speech for an Orpheus model name, else chat. */
export function upstreamKind(upstream: Readonly<UpstreamConfig>, speechModels: ReadonlySet<string>): UpstreamKind {
  return upstream.kind ?? (speechModels.has(upstream.model) ? 'speech' : 'chat');
}

export interface UpstreamsOptions extends Omit<ReplicaSetOptions, 'metrics'> {
  /** The app's metrics registry (per-replica counters); absent: none. */
  registry?: Registry;
  /** Model names that mean an Orpheus LM (speech) when an entry gives no kind. */
  speechModels: ReadonlySet<string>;
}

/**
 * Every configured upstream model, each a replica set with its health checks, sorted by what it
 * serves: chat engines, Orpheus completions engines and transcription engines.
 */
export class Upstreams {
  readonly chat: UpstreamEngine[] = [];
  readonly speech = new Map<string, UpstreamEngine>();
  readonly transcription = new Map<string, UpstreamTranscriber>();
  private readonly sets: ReplicaSet[] = [];
  private readonly localFallback = new Set<string>();
  private readonly metrics: UpstreamMetrics | undefined;

  constructor(configs: ReadonlyArray<Readonly<UpstreamConfig>>, options: UpstreamsOptions) {
    const { registry, speechModels, ...rest } = options;
    this.metrics = registry && new UpstreamMetrics(registry);
    for (const config of configs) {
      const set = new ReplicaSet(config, { ...rest, ...(this.metrics && { metrics: this.metrics }) });
      this.sets.push(set);
      if (config.fallback === 'local') this.localFallback.add(config.model);
      const kind = upstreamKind(config, speechModels);
      if (kind === 'transcription') this.transcription.set(config.model, new UpstreamTranscriber(set));
      else if (kind === 'speech') this.speech.set(config.model, new UpstreamEngine(set));
      else this.chat.push(new UpstreamEngine(set));
    }
  }

  /** Starts every replica set's health checks. */
  start(): this {
    for (const s of this.sets) s.start();
    return this;
  }

  stop(): void {
    for (const s of this.sets) s.stop();
  }

  /** Whether the model falls back to the local model of its name when no replica can answer. */
  fallsBack(model: string): boolean {
    return this.localFallback.has(model);
  }

  /**
   * Runs `upstream`; when every replica failed before answering and the model falls back, runs
   * `local` instead (counted per model).
   */
  async orLocal<T>(model: string, upstream: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    try {
      return await upstream();
    } catch (err) {
      if (!(err instanceof UpstreamsExhaustedError) || !this.fallsBack(model)) throw err;
      this.metrics?.fallback(model);
      return local();
    }
  }
}

/** A chat model on upstream engines that falls back to the local model of its name. */
export class LocalFallbackChat implements ChatBackend {
  readonly model: string;
  readonly ownedBy: string;

  constructor(
    private readonly upstream: ChatBackend,
    private readonly local: ChatBackend,
    private readonly upstreams: Upstreams,
  ) {
    this.model = upstream.model;
    this.ownedBy = upstream.ownedBy;
  }

  complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    return this.upstreams.orLocal(this.model, () => this.upstream.complete(request, signal), () => this.local.complete(request, signal));
  }

  stream(request: ChatRequest, signal: AbortSignal): Promise<ChatStream> {
    return this.upstreams.orLocal(this.model, () => this.upstream.stream(request, signal), () => this.local.stream(request, signal));
  }
}
