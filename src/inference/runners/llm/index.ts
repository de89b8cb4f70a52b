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
export { LocalLlm, type Generation } from './local-llm.ts';
export { LocalChatModel } from './local-chat.ts';
export { ChatTemplate, chatMlPrompt } from './chat-template.ts';
export { AssistantOutput } from './assistant-output.ts';
export { decoderOnlyFamily, decoderOnlyFile } from './family.ts';
export { writeChatTestModel, writeDecoderOnlyModel, decoderOnlyGraph, byteTokenizerJson, CHAT_TEST_DIMS, type DecoderDims } from './test-model.ts';
export type { GenerateParams, LoopStats } from './protocol.ts';
