import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import type { UsageLedger } from '../metering/index.ts';
import type { NumberService } from '../numbers/index.ts';
import { CallsRepository, type Database, type NumberRecord, type SqlStore } from '../store/index.ts';
import type { HttpPost } from '../webhooks/index.ts';
import { CallLog } from './call-log.ts';
import { CallManager, type CallManagerDeps } from './call-manager.ts';
import type { CallControl } from './call-intake.ts';
import { ClusterCalls, type ClusterCallsDeps } from './cluster-calls.ts';
import { monotonicClock } from '../clock/index.ts';
import type { VoiceInference } from './ports.ts';
import { VoiceMetrics } from './metrics.ts';
import { MediaMetrics } from './rtp/media-metrics.ts';
import type { DroppedKind } from './rtp/media-stream.ts';
import { WorkerMediaEngine } from './rtp/worker-media-engine.ts';
import { DrachtioSignaling } from './sip/drachtio.ts';
import type { SipSignaling } from './sip/signaling.ts';

/** What the composition root may inject instead of the configured adapters (tests, benchmarks). */
export interface VoiceOptions {
  signaling?: SipSignaling;
  inference?: VoiceInference | null;
  agentFor?: CallManagerDeps['agentFor'];
  rtcpIntervalMs?: number;
}

export interface VoiceCoreDeps {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  /** The store calls are written to (each change and its webhook event in one store.tx). */
  store: SqlStore<Database>;
  numbers: NumberService;
  ledger: UsageLedger;
  webhooks: { notify(): void };
  metrics: Registry;
  /** Opt-out compliance: calls to opted-out contacts are refused (absent: no check). */
  optOuts?: { assertAllowed(db: Kysely<Database>, number: NumberRecord, contact: string): Promise<void> };
}

export interface Voice {
  /** Absent when voice is off (no drachtio configured and no signaling injected). */
  manager: CallManager | undefined;
  /** Places and ends calls for the API: this node's manager, or on a cluster the queue every voice node claims from; absent: 503. */
  control: CallControl | undefined;
  /** On a cluster: what the `call` and `hangup:<id>` hints act on. */
  cluster: ClusterCalls | undefined;
  calls: CallsRepository;
  stop(): Promise<void>;
}

/** Where this node stands in the cluster, for the calls it places and the queue it shares. */
export interface VoiceNode {
  /** Written on the calls this node places and answers. */
  id: string;
  /** PostgreSQL: calls are queued for every voice node to claim; absent on SQLite (one node). */
  cluster?: Pick<ClusterCallsDeps, 'hints' | 'voiceNodes' | 'aliveTtlMs' | 'pollMs'>;
}

export interface VoiceAdapters {
  signaling(v: Config['voice'], metrics: VoiceMetrics): SipSignaling | undefined;
  inference(): VoiceInference | null;
}

/** drachtio when configured; inference is bound by the composition root (none: calls get 480). */
function defaultAdapters(logger: Logger): VoiceAdapters {
  return { signaling: (v, metrics) => (v.drachtio ? new DrachtioSignaling(v, logger, metrics) : undefined), inference: () => null };
}

/** Builds and starts voice calls when configured; otherwise only the calls store and, on a cluster, the shared queue. */
export async function startVoice(
  core: VoiceCoreDeps,
  post: HttpPost,
  options: VoiceOptions,
  node: VoiceNode = { id: 'local' },
  adapters: VoiceAdapters = defaultAdapters(core.logger),
): Promise<Voice> {
  const calls = new CallsRepository(core.store.db);
  const coreOptOuts = core.optOuts;
  const optOuts = coreOptOuts && { assertAllowed: (number: NumberRecord, contact: string) => coreOptOuts.assertAllowed(core.store.db, number, contact) };
  const log = new CallLog({
    store: core.store,
    ledger: core.ledger,
    clock: core.clock,
    included: core.config.metering.includedVoiceMinutes,
    notify: () => core.webhooks.notify(),
  });
  const manager = await startManager(core, post, options, adapters, { calls, log, optOuts, nodeId: node.id, clustered: node.cluster !== undefined });
  if (!node.cluster) return { manager, control: manager, cluster: undefined, calls, stop: async () => manager?.stop() };
  const cluster = new ClusterCalls({
    ...node.cluster,
    nodeId: node.id,
    calls,
    log,
    ...(optOuts && { optOuts }),
    manager,
    numbers: core.numbers,
    clock: monotonicClock,
    logger: core.logger,
  });
  cluster.start();
  return {
    manager,
    control: cluster,
    cluster,
    calls,
    stop: async () => {
      await cluster.stop();
      await manager?.stop();
    },
  };
}

interface ManagerParts {
  calls: CallsRepository;
  log: CallLog;
  optOuts: CallManagerDeps['optOuts'];
  nodeId: string;
  /** On a cluster only this node's own calls are its to end at start. */
  clustered: boolean;
}

async function startManager(core: VoiceCoreDeps, post: HttpPost, options: VoiceOptions, adapters: VoiceAdapters, { calls, log, optOuts, nodeId, clustered }: ManagerParts): Promise<CallManager | undefined> {
  const v = core.config.voice;
  const enabled = options.signaling !== undefined || v.drachtio !== null;
  if (!enabled) return undefined;
  const metrics = new VoiceMetrics(core.metrics);
  const signaling = options.signaling ?? adapters.signaling(v, metrics);
  if (!signaling) return undefined;
  metrics.observe(() => signaling.status());
  // Calls a previous process left live cannot be resumed: their media sockets are gone. On a
  // cluster only this node's (other nodes' calls are live there; queued ones wait to be claimed).
  for (const c of await calls.listLive(clustered ? nodeId : undefined)) {
    const number = await core.numbers.get(c.numberId);
    await log.end(number, c.id, { status: c.answeredAt ? 'completed' : 'failed', reason: 'gateway_restart' });
  }
  const mediaMetrics = new MediaMetrics(core.metrics);
  const voiceLog = core.logger.child({ mod: 'voice' });
  const engineSettings = {
    bindHost: v.rtpBindHost,
    range: v.rtpPorts,
    onDropped: (kind: DroppedKind, n?: number) => mediaMetrics.drop(kind, n),
    threadNice: v.mediaThreadNice,
    onPriority: (nice: number | null, error: string | null) => {
      if (error) voiceLog.warn({ wanted: v.mediaThreadNice, error }, 'media thread priority left unchanged (lowering nice needs root or CAP_SYS_NICE; see docs/voice.md)');
      else voiceLog.info({ nice }, 'media thread priority set');
    },
  };
  const media = new WorkerMediaEngine(engineSettings);
  media.warm();
  const manager = new CallManager({
    signaling,
    numbers: core.numbers,
    voiceSettings: (id) => calls.voiceSettings(id),
    log,
    inference: options.inference === undefined ? adapters.inference() : options.inference,
    post,
    clock: core.clock,
    voiceClock: monotonicClock,
    media,
    logger: core.logger,
    mediaMetrics,
    nodeId,
    ...(optOuts && { optOuts }),
    ...(options.agentFor && { agentFor: options.agentFor }),
    settings: {
      mediaAddress: v.mediaAddress,
      jitter: { minDelayMs: v.jitterBuffer.minDelayMs, maxDelayMs: v.jitterBuffer.maxDelayMs, maxDepth: v.jitterBuffer.maxFrames },
      turnLoop: {
        endpointing: v.endpointing,
        prerollMs: v.endpointing.prerollMs,
        agentDeadlineMs: v.agentDeadlineMs,
        bargeIn: v.bargeIn,
        voice: v.voice,
      },
      greeting: v.greeting,
      systemPrompt: v.systemPrompt,
      quotaMessage: v.quotaMessage,
      maxCallMs: v.maxCallMinutes * 60_000,
      ...(options.rtcpIntervalMs !== undefined && { rtcpIntervalMs: options.rtcpIntervalMs }),
    },
  });
  await manager.start();
  return manager;
}
