export { UpstreamEngine, UpstreamError } from './engine.ts';
export { ReplicaSet, UpstreamsExhaustedError, type FetchLike, type ReplicaSetOptions } from './replica-set.ts';
export { UpstreamMetrics } from './metrics.ts';
export { SseParser, sseData, type SseEvent } from './sse.ts';
export { Slots } from './slots.ts';
export { UpstreamTranscriber, type TimedText, type TranscriptionUpload, type UpstreamTranscript } from './transcription.ts';
export { LocalFallbackChat, upstreamKind, Upstreams, type UpstreamKind, type UpstreamsOptions } from './upstreams.ts';
