export { VOICES, TTS_MODELS, EMOTION_TAGS, findVoice, type Voice } from './voices.ts';
export {
  ORPHEUS_TOKENS,
  AUDIO_TOKEN_BASE,
  CODEBOOK_SIZE,
  TOKENS_PER_FRAME,
  WINDOW_FRAMES,
  SAMPLES_PER_FRAME,
  SAMPLE_RATE_HZ,
  tokenToCode,
  codeToToken,
  framesToSnac,
  SnacStreamWindow,
  type SnacCodes,
  type DecodeStep,
} from './snac-codes.ts';
export { orpheusPrompt, splitSentences, type TextEncoder } from './prompt.ts';
export { floatToPcm16, wavHeader, wavFile } from './wav.ts';
export { TtsService } from './tts-service.ts';
export { CONTENT_TYPES, encodeWithFfmpeg, type CompressedFormat } from './encode.ts';
export { orpheusFamily, snacFamily } from './family.ts';
export { writeOrpheusTestModel, writeSnacTestModel, snacDecoderGraph, ORPHEUS_TEST_DIMS, ORPHEUS_3B_DIMS } from './test-models.ts';
