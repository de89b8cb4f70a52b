export { UpstreamEngine, UpstreamError, type FetchLike, type UpstreamEngineOptions } from './engine.ts';
export { SseParser, sseData, type SseEvent } from './sse.ts';
export { Slots } from './slots.ts';
