import type { Config } from '../../../config/index.ts';
import type { Logger } from '../../../logging/index.ts';
import { UpstreamEngine, type FetchLike } from '../../upstream/index.ts';
import { ChatRouter } from './chat-router.ts';

/** The chat router for a configuration: every configured upstream engine (local runners are added to it). */
export function createChatRouter(config: Readonly<Config>, logger: Logger, nowMs: number, fetch?: FetchLike, exclude: ReadonlySet<string> = new Set()): ChatRouter {
  const router = new ChatRouter(config.chat.defaultModel, Math.floor(nowMs / 1000));
  for (const upstream of config.upstreams) {
    if (!exclude.has(upstream.model)) router.add(new UpstreamEngine(upstream, { logger, ...(fetch && { fetch }) }));
  }
  return router;
}
