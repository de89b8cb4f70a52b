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
import { UpstreamProbe } from './upstream-probe.ts';

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
  // Local chat runners are listed by the installed-models source below, only once their files are
  // in place: a configured model that is not installed cannot answer, so it is not listed.
  const routedLocals = new Set<string>();
  // Upstream chat engines are listed while they answer (an engine that is down cannot).
  const probe = new UpstreamProbe(deps.fetch ?? fetch, () => deps.clock.now());
  const upstreamOf = new Map(config.upstreams.map((u) => [u.model, u]));
  const sources: Array<() => ModelEntry[] | Promise<ModelEntry[]>> = [
    async () => {
      const listed = router.models().filter((m) => !routedLocals.has(m.id));
      const up = await Promise.all(listed.map((m) => {
        const upstream = upstreamOf.get(m.id);
        return upstream ? probe.up(upstream) : true;
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
      }
    }
    tts = new TtsService(inference, config.speech, config.chat.maxBatch, ttsUpstreams);
    sources.push(() => [...ttsUpstreams.values()].map((e) => ({ id: e.model, object: 'model' as const, created, owned_by: e.ownedBy })));
    // Installed local models that an endpoint serves (speech-to-text, TTS, chat), after the chat router's.
    sources.push(() => answeringLocalModels(inference, config.speech.snacModel, created));
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
