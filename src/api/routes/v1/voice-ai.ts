import type { Clock } from '../../../clock/index.ts';
import type { Config } from '../../../config/index.ts';
import type { Inference } from '../../../inference/index.ts';
import { createChatRouter, LocalChatModel, type ChatRouter, type ModelEntry } from '../../../inference/runners/llm/index.ts';
import { TTS_MODELS, TtsService } from '../../../inference/runners/tts/index.ts';
import { UpstreamEngine, type FetchLike } from '../../../inference/upstream/index.ts';
import type { Logger } from '../../../logging/index.ts';
import { KeyUsageMeter } from '../../../metering/index.ts';
import { UsageRepository, type Db } from '../../../store/index.ts';
import type { V1RoutesOptions } from './index.ts';

export interface VoiceAiDeps {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  db: Db;
  /** The worker pool and model registry; without it only upstream chat models are served. */
  inference?: Inference;
  /** How upstream engines are called (tests and benches measure through it). */
  fetch?: FetchLike;
}

export type VoiceAi = V1RoutesOptions & { router: ChatRouter; tts: TtsService | undefined; close(): Promise<void> };

/** The chat, models, voices and speech routes' services for a gateway. */
export function voiceAiRoutes(deps: VoiceAiDeps): VoiceAi {
  const { config, inference } = deps;
  // Upstreams that serve an Orpheus LM feed the TTS path, not chat.
  const ttsModels = new Set<string>(Object.values(TTS_MODELS));
  const router = createChatRouter(config, deps.logger, deps.clock.now(), deps.fetch, ttsModels);
  const ttsUpstreams = new Map(
    config.upstreams.filter((u) => ttsModels.has(u.model)).map((u) => [u.model, new UpstreamEngine(u, { logger: deps.logger, ...(deps.fetch && { fetch: deps.fetch }) })]),
  );
  const meter = new KeyUsageMeter(new UsageRepository(deps.db));
  const created = Math.floor(deps.clock.now() / 1000);
  const locals: LocalChatModel[] = [];
  let tts: TtsService | undefined;
  const sources: Array<() => ModelEntry[]> = [() => router.models()];
  if (inference) {
    for (const m of inference.registry.list().filter((x) => x.family === 'llm')) {
      const local = new LocalChatModel(m.name, inference.registry, { maxBatch: config.chat.maxBatch, defaultMaxTokens: config.chat.defaultMaxTokens, testModel: m.test });
      locals.push(local);
      if (!router.has(m.name)) router.add(local);
    }
    tts = new TtsService(inference, config.speech, config.chat.maxBatch, ttsUpstreams);
    sources.push(() => [...ttsUpstreams.values()].map((e) => ({ id: e.model, object: 'model' as const, created, owned_by: e.ownedBy })));
    // Installed local models of every kind (speech-to-text, TTS, chat), listed after the chat router's.
    sources.push(() =>
      inference.registry
        .list()
        .filter((m) => m.installed)
        .map((m) => ({ id: m.name, object: 'model' as const, created, owned_by: m.test ? 'agentphone-test' : 'agentphone' })),
    );
  }
  return {
    router,
    tts,
    chat: { chat: router, meter, clock: deps.clock },
    models: { sources },
    voices: true,
    ...(tts && { speech: { tts, meter, clock: deps.clock, defaultModel: config.speech.defaultModel, maxInputChars: config.speech.maxInputChars } }),
    close: async () => {
      await Promise.all(locals.map((l) => l.close()));
      await tts?.close();
    },
  };
}
