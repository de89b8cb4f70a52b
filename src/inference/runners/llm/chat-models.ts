import type { Config } from '../../../config/index.ts';
import { ChatRouter } from './chat-router.ts';
import type { ChatBackend } from './chat-types.ts';

/** The chat router for a configuration: the upstream chat engines given (local runners are added to it). */
export function createChatRouter(config: Readonly<Config>, nowMs: number, upstreams: readonly ChatBackend[]): ChatRouter {
  const router = new ChatRouter(config.chat.defaultModel, Math.floor(nowMs / 1000));
  for (const upstream of upstreams) router.add(upstream);
  return router;
}
