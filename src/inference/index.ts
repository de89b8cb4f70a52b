// The inference domain: a piscina pool of onnxruntime-node workers, the model registry,
// dynamic batching, metrics, test-model generation, and the runners (whisper here).
export { DynamicBatcher, type BatcherOptions } from './batcher.ts';
export {
  InferenceError,
  InferenceFailedError,
  ModelNotInstalledError,
  QueueFullError,
  TaskCancelledError,
  UnknownModelError,
  WorkerCrashedError,
} from './errors.ts';
export { InferenceMetrics } from './metrics.ts';
export { InferencePool, type InferencePoolOptions, type PoolRunOptions, type PoolTask } from './pool.ts';
export {
  DTYPE_SUFFIX,
  isTestModel,
  ModelRegistry,
  modelFamily,
  onnxFileWithData,
  registerModelFamily,
  TEST_MODEL_MARKER,
  type ModelFamily,
  type ModelInfo,
} from './registry.ts';
export { createInference, type Inference, type PoolName } from './service.ts';
export { sessionOptions, cudaUnavailableReason, probeProvider } from './sessions.ts';
export type { ModelDtype, ModelRuntime, RunnerModule, RunnerOp, SessionSettings, TaskContext, WorkerNote } from './types.ts';
export {
  Graph,
  makeTestModels,
  registerTestModel,
  serializeModel,
  testModelSpecs,
  writeOnnx,
  type DType,
  type Dim,
  type TestModelSpec,
} from './generator/index.ts';
export { AudioDecodeError, decodeAudio, decodeWav, decodeWithFfmpeg, downmix, FFMPEG_MISSING, ffmpegAvailable, resample, TARGET_RATE_HZ } from './audio/index.ts';
export { LANGUAGE_NAMES, toSrt, toVtt, WhisperService, whisperFamily, type Segment, type TranscribeOptions, type Transcription } from './runners/whisper/index.ts';
export { downloadFile, listRepoFiles, pullModel, PullError, type PullOptions, type PullProgress, type RepoFile } from './pull.ts';
// Chat (local decoder-only runner) and TTS (Orpheus + SNAC) families register themselves.
export { LocalChatModel, LocalLlm, decoderOnlyFamily } from './runners/llm/index.ts';
export { findVoice, TtsService, VOICES, orpheusFamily, snacFamily } from './runners/tts/index.ts';
