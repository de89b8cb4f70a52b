export { ChatRouter, type ModelEntry } from './chat-router.ts';
export {
  usageOf,
  type ChatBackend,
  type ChatChunk,
  type ChatCompletion,
  type ChatMessage,
  type ChatRequest,
  type ChatStream,
  type ChatUsage,
  type FinishReason,
} from './chat-types.ts';
export { GREEDY, Rng, sampleToken, argmax, topIndices, applyRepetitionPenalty, type SamplingParams } from './sampling.ts';
export { createChatRouter } from './chat-models.ts';
