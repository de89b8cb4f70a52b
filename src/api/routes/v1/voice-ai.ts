import type { Clock } from '../../../clock/index.ts';
import type { Config } from '../../../config/index.ts';
import { createChatRouter, type ChatRouter } from '../../../inference/runners/llm/index.ts';
import type { FetchLike } from '../../../inference/upstream/index.ts';
import type { Logger } from '../../../logging/index.ts';
import { KeyUsageMeter } from '../../../metering/index.ts';
import { UsageRepository, type Db } from '../../../store/index.ts';
import type { V1RoutesOptions } from './index.ts';

export interface VoiceAiDeps {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  db: Db;
  /** How upstream engines are called (tests and benches measure through it). */
  fetch?: FetchLike;
}

/** The chat, models and voices routes' services for a gateway. */
export function voiceAiRoutes(deps: VoiceAiDeps): V1RoutesOptions & { router: ChatRouter } {
  const router = createChatRouter(deps.config, deps.logger, deps.clock.now(), deps.fetch);
  const meter = new KeyUsageMeter(new UsageRepository(deps.db));
  return {
    router,
    chat: { chat: router, meter, clock: deps.clock },
    models: { sources: [() => router.models()] },
    voices: true,
  };
}
