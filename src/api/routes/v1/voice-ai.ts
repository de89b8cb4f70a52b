import type { Registry } from 'prom-client';
import type { Clock } from '../../../clock/index.ts';
import type { Config } from '../../../config/index.ts';
import type { Inference } from '../../../inference/index.ts';
import { createChatRouter, LocalChatModel, type ChatRouter, type ModelEntry } from '../../../inference/runners/llm/index.ts';
import { TTS_MODELS, TtsService } from '../../../inference/runners/tts/index.ts';
import { LocalFallbackChat, Upstreams, type FetchLike, type ReplicaSet } from '../../../inference/upstream/index.ts';
import type { Logger } from '../../../logging/index.ts';
import { KeyUsageMeter } from '../../../metering/index.ts';
import { UsageRepository, type Database, type SqlStore } from '../../../store/index.ts';
import type { V1RoutesOptions } from './index.ts';

export interface VoiceAiDeps {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  store: SqlStore<Database>;
  /** The worker pool and model registry; without it only upstream chat models are served. */
  inference?: Inference;
  /** How upstream engines are called (tests and benches measure through it). */
  fetch?: FetchLike;
  /** The app's metrics registry (per-replica upstream metrics). */
  metrics?: Registry;
}

export type VoiceAi = V1RoutesOptions & { router: ChatRouter; tts: TtsService | undefined; upstreams: Upstreams; close(): Promise<void> };

/** The chat, models, voices and speech routes' services for a gateway. */
export function voiceAiRoutes(deps: VoiceAiDeps): VoiceAi {
  const { config, inference } = deps;
  // Upstreams that serve an Orpheus LM feed the TTS path, transcription engines the transcriptions route, the rest chat.
  const ttsModels = new Set<string>(Object.values(TTS_MODELS));
  const upstreams = new Upstreams(config.upstreams, {
    logger: deps.logger,
    speechModels: ttsModels,
    ...(deps.fetch && { fetch: deps.fetch }),
    ...(deps.metrics && { registry: deps.metrics }),
  }).start();
  const router = createChatRouter(config, deps.clock.now(), upstreams.chat);
  const ttsUpstreams = upstreams.speech;
  const meter = new KeyUsageMeter(new UsageRepository(deps.store.db));
  const created = Math.floor(deps.clock.now() / 1000);
  const locals: LocalChatModel[] = [];
  let tts: TtsService | undefined;
  // Local chat runners are listed by the installed-models source below, only once their files are
  // in place: a configured model that is not installed cannot answer, so it is not listed.
  const routedLocals = new Set<string>();
  // Upstream chat and transcription engines are listed while one of their replicas is up by the
  // replica set's own health checks (or the local model they fall back to is there).
  const setOf = new Map<string, ReplicaSet>([...upstreams.chat, ...upstreams.transcription.values()].map((e) => [e.model, e.replicas]));
  const localFallbacks = new Set<string>();
  const sources: Array<() => ModelEntry[] | Promise<ModelEntry[]>> = [
    async () => {
      const transcription = [...upstreams.transcription.values()].map((t) => ({ id: t.model, object: 'model' as const, created, owned_by: new URL(t.replicas.config.baseUrl).host }));
      const listed = [...router.models().filter((m) => !routedLocals.has(m.id)), ...transcription];
      const up = await Promise.all(listed.map((m) => {
        const set = setOf.get(m.id);
        return set && !localFallbacks.has(m.id) ? set.answering() : true;
      }));
      return listed.filter((_, i) => up[i]);
    },
  ];
  if (inference) {
    for (const m of inference.registry.list().filter((x) => x.family === 'llm')) {
      const local = new LocalChatModel(m.name, inference.registry, { maxBatch: config.chat.maxBatch, defaultMaxTokens: config.chat.defaultMaxTokens, testModel: m.test });
      locals.push(local);
      if (!router.has(m.name)) {
        router.add(local);
        routedLocals.add(m.name);
      } else if (upstreams.fallsBack(m.name)) {
        router.add(new LocalFallbackChat(router.get(m.name), local, upstreams));
        if (m.installed) localFallbacks.add(m.name);
      }
    }
    tts = new TtsService(inference, config.speech, config.chat.maxBatch, upstreams);
    sources.push(() => [...ttsUpstreams.values()].map((e) => ({ id: e.model, object: 'model' as const, created, owned_by: e.ownedBy })));
    // Installed local models that an endpoint serves (speech-to-text, TTS, chat), after the chat router's.
    sources.push(() => answeringLocalModels(inference, config.speech.snacModel, created));
  }
  return {
    router,
    tts,
    upstreams,
    chat: { chat: router, meter, clock: deps.clock },
    models: { sources },
    voices: true,
    ...(tts && { speech: { tts, meter, clock: deps.clock, defaultModel: config.speech.defaultModel, maxInputChars: config.speech.maxInputChars } }),
    close: async () => {
      upstreams.stop();
      await Promise.all(locals.map((l) => l.close()));
      await tts?.close();
    },
  };
}

/**
 * The local models a request can use now: installed, of a family an endpoint serves (the SNAC
 * decoder is a part of TTS, not a model to ask for), and an Orpheus model only while the SNAC
 * decoder it needs is installed too.
 */
function answeringLocalModels(inference: Inference, snacModel: string, created: number): ModelEntry[] {
  const installed = inference.registry.list().filter((m) => m.installed);
  const snacReady = installed.some((m) => m.name === snacModel && m.family === 'snac');
  return installed
    .filter((m) => m.family === 'whisper' || m.family === 'llm' || (m.family === 'orpheus' && snacReady))
    .map((m) => ({ id: m.name, object: 'model' as const, created, owned_by: m.test ? 'agentphone-test' : 'agentphone' }));
}
