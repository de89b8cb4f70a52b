import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DTYPE_SUFFIX, TEST_MODEL_MARKER } from '../registry.ts';
import type { ModelDtype } from '../types.ts';
import { serializeModel, type Graph } from './onnx-builder.ts';
import { whisperTokenizerJson, type WhisperTokenLayout } from './tokenizer-json.ts';
import { WHISPER_DIMS, whisperDecoderGraph, whisperEncoderGraph, type WhisperDims } from './whisper-graphs.ts';

export interface WhisperModelOptions {
  dims: WhisperDims;
  /** fp32 or fp16 weights (the file names follow the dtype, as in the real exports). */
  dtype?: Extract<ModelDtype, 'fp32' | 'fp16'>;
  /**
   * The encoder's float type when it differs from the decoder's (default: `dtype`). Real exports
   * mix them (encoder_model.onnx beside decoder_model_merged_fp16.onnx, q4 decoders with fp32
   * inputs): the file keeps the model dtype's name, the graph takes and gives this type.
   */
  encoderDtype?: Extract<ModelDtype, 'fp32' | 'fp16'>;
  seed?: number;
  /** Mark the folder as a generated test model (its output is noise). */
  testMarker?: boolean;
}

/** Writes one .onnx file and, for its large initializers, the external `<file>_data` next to it. */
export function writeOnnx(dir: string, file: string, graph: Graph, externalMinBytes = 1024): void {
  const dataName = `${file}_data`;
  const { model, data } = serializeModel(graph, { externalDataFile: dataName, externalMinBytes });
  writeFileSync(join(dir, file), model);
  if (data) {
    const fd = openSync(join(dir, dataName), 'w');
    try {
      for (const chunk of data) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
  }
}

function generationConfig(layout: WhisperTokenLayout): object {
  return {
    alignment_heads: [[0, 0]],
    begin_suppress_tokens: [220, layout.eot],
    bos_token_id: layout.eot,
    decoder_start_token_id: layout.sot,
    eos_token_id: layout.eot,
    is_multilingual: true,
    lang_to_id: Object.fromEntries(layout.languages.map((l, i) => [`<|${l}|>`, 50259 + i])),
    max_initial_timestamp_index: 50,
    max_length: 448,
    no_timestamps_token_id: layout.noTimestamps,
    pad_token_id: layout.eot,
    prev_sot_token_id: layout.startOfPrev,
    return_timestamps: false,
    suppress_tokens: [1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63, 90, 91, 92, 93, 359, 503, 522, 542, 873, 893, 902, 918, 922, 931, 1350, 1853, 1982, 2460, 2627, 3246, 3253, 3268, 3536, 3846, 3961, 4183, 4667, 6585, 6647, 7273, 9061, 9383, 10428, 10929, 11938, 12033, 12331, 12562, 13793, 14157, 14635, 15265, 15618, 16553, 16604, 18362, 18956, 20075, 21675, 22520, 26130, 26161, 26435, 28279, 29464, 31650, 32302, 32470, 36865, 42863, 47425, 49870, 50254, layout.sot, layout.translate, layout.transcribe, layout.startOfLm, layout.startOfPrev, layout.noSpeech],
    task_to_id: { transcribe: layout.transcribe, translate: layout.translate },
  };
}

/** A Whisper export in the standard layout, with random weights and exact tensor names. */
export function writeWhisperModel(dir: string, options: WhisperModelOptions): void {
  const { dims } = options;
  const dtype = options.dtype ?? 'fp32';
  const ft = dtype === 'fp16' ? 'float16' : 'float32';
  const seed = options.seed ?? 7;
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const { tokenizer, tokenizerConfig, layout } = whisperTokenizerJson(dims.vocabSize);
  const json = (file: string, value: object) => writeFileSync(join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', {
    _name_or_path: 'agentphone/generated-whisper',
    architectures: ['WhisperForConditionalGeneration'],
    model_type: 'whisper',
    d_model: dims.dModel,
    encoder_layers: dims.encoderLayers,
    decoder_layers: dims.decoderLayers,
    encoder_attention_heads: dims.encoderHeads,
    decoder_attention_heads: dims.decoderHeads,
    encoder_ffn_dim: dims.ffnDim,
    decoder_ffn_dim: dims.ffnDim,
    num_mel_bins: dims.numMelBins,
    vocab_size: dims.vocabSize,
    max_source_positions: dims.maxSourcePositions,
    max_target_positions: dims.maxTargetPositions,
    bos_token_id: layout.eot,
    eos_token_id: layout.eot,
    pad_token_id: layout.eot,
    decoder_start_token_id: layout.sot,
    begin_suppress_tokens: [220, layout.eot],
    torch_dtype: dtype === 'fp16' ? 'float16' : 'float32',
  });
  json('generation_config.json', generationConfig(layout));
  json('preprocessor_config.json', {
    chunk_length: 30,
    feature_extractor_type: 'WhisperFeatureExtractor',
    feature_size: dims.numMelBins,
    hop_length: 160,
    n_fft: 400,
    n_samples: 480000,
    nb_max_frames: 3000,
    padding_side: 'right',
    padding_value: 0,
    processor_class: 'WhisperProcessor',
    return_attention_mask: false,
    sampling_rate: 16000,
  });
  json('tokenizer.json', tokenizer);
  json('tokenizer_config.json', tokenizerConfig);
  const suffix = DTYPE_SUFFIX[dtype];
  const encoderFt = (options.encoderDtype ?? dtype) === 'fp16' ? 'float16' : 'float32';
  writeOnnx(join(dir, 'onnx'), `encoder_model${suffix}.onnx`, whisperEncoderGraph(dims, encoderFt, seed));
  writeOnnx(join(dir, 'onnx'), `decoder_model_merged${suffix}.onnx`, whisperDecoderGraph(dims, ft, seed + 1));
  if (options.testMarker !== false) {
    json(TEST_MODEL_MARKER, { generated: true, family: 'whisper', note: 'random weights: transcripts are noise' });
  }
}

export { WHISPER_DIMS };
