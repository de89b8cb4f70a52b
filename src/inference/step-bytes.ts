/*
 * Bytes each decoder step feeds and fetches, by part, for the decode loops as this repository
 * runs them (runners/whisper/decoder.ts, runners/llm/llm-worker.ts). onnxruntime-node keeps no
 * tensor on a CUDA device between runs (no IO binding for CUDA), so on the CUDA provider every
 * fed byte crosses PCIe host→device and every fetched byte device→host. bench/gpu-io.ts prints
 * these for the real model sizes; tests check them against the bytes a real session moves.
 */

/** Bytes by part (ids, mask, cache, logits...). */
export type Parts = Record<string, number>;

export interface StepBytes {
  /** What is fed: host→device on CUDA. */
  fed: Parts;
  /** What is fetched: device→host on CUDA. */
  fetched: Parts;
}

export interface DecoderOnlyShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  /** Bytes per cache element: 4 (fp32 export) or 2 (fp16 / q4f16). */
  cacheBytes: number;
  /** Bytes per logit: 4 or 2. */
  logitsBytes: number;
  positionIds: boolean;
  logitsToKeep: boolean;
}

const INT64 = 8;

/** One run of the llm-worker loop for `batch` rows of `tokens` new tokens each after `past` cached positions. */
export function decoderOnlyRun(s: DecoderOnlyShape, past: number, tokens: number, batch = 1): StepBytes {
  const perPosition = 2 * s.layers * s.kvHeads * s.headDim * s.cacheBytes;
  const fed: Parts = { input_ids: batch * tokens * INT64, attention_mask: batch * (past + tokens) * INT64, past_key_values: batch * past * perPosition };
  if (s.positionIds) fed.position_ids = batch * tokens * INT64;
  if (s.logitsToKeep) fed.num_logits_to_keep = INT64;
  const logitRows = s.logitsToKeep ? 1 : tokens;
  return { fed, fetched: { logits: batch * logitRows * s.vocabSize * s.logitsBytes, present: batch * (past + tokens) * perPosition } };
}

export interface WhisperShape {
  decoderLayers: number;
  decoderHeads: number;
  headDim: number;
  dModel: number;
  /** Encoder output positions (1500 for a 30 s window). */
  encoderPositions: number;
  vocabSize: number;
  /** Bytes per float of the decoder's inputs and outputs: 4 (fp32) or 2 (fp16). */
  floatBytes: number;
}

/**
 * One run of WindowDecoder through the merged decoder. `kind`: 'detect' (language detection,
 * logits only), 'first' (step one: computes the cross-attention cache), 'cached' (every later
 * step). `fetchCrossAttention`: the cross-attention presents are fetched after step one too, as
 * a caller without a fetch list does (the behaviour before fetch lists).
 */
export function whisperRun(s: WhisperShape, kind: 'detect' | 'first' | 'cached', past: number, tokens: number, fetchCrossAttention = false): StepBytes {
  const layerCache = (positions: number) => 2 * s.decoderLayers * s.decoderHeads * positions * s.headDim * s.floatBytes;
  const cached = kind === 'cached';
  const fed: Parts = {
    input_ids: tokens * INT64,
    encoder_hidden_states: s.encoderPositions * s.dModel * s.floatBytes,
    use_cache_branch: 1,
    decoder_past: layerCache(past),
    cross_attention_past: cached ? layerCache(s.encoderPositions) : 0,
  };
  const fetched: Parts = { logits: tokens * s.vocabSize * s.floatBytes };
  if (kind !== 'detect') {
    fetched.decoder_present = layerCache(past + tokens);
    fetched.cross_attention_present = !cached || fetchCrossAttention ? layerCache(s.encoderPositions) : 0;
  }
  return { fed, fetched };
}

export const total = (parts: Parts): number => Object.values(parts).reduce((a, b) => a + b, 0);
