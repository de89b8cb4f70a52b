import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { DTYPE_SUFFIX } from '../../registry.ts';
import type { ModelDtype } from '../../types.ts';
import { whisperTokens, type GenerationConfig, type WhisperTokens } from './tokens.ts';

export const encoderFile = (dtype: ModelDtype): string => `onnx/encoder_model${DTYPE_SUFFIX[dtype]}.onnx`;
export const decoderFile = (dtype: ModelDtype): string => `onnx/decoder_model_merged${DTYPE_SUFFIX[dtype]}.onnx`;

export const WHISPER_JSON_FILES = ['config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json'] as const;

/** What the decoder loop needs from config.json, generation_config.json and tokenizer.json. */
export interface WhisperModelInfo {
  nMels: number;
  decoderLayers: number;
  decoderHeads: number;
  headDim: number;
  maxTargetPositions: number;
  tokens: WhisperTokens;
  tokenizer: Tokenizer;
}

interface HfConfig {
  num_mel_bins: number;
  d_model: number;
  decoder_layers: number;
  decoder_attention_heads: number;
  vocab_size: number;
  max_target_positions?: number;
}

export async function loadWhisperModelInfo(dir: string): Promise<WhisperModelInfo> {
  const json = async <T>(file: string): Promise<T> => JSON.parse(await readFile(join(dir, file), 'utf8')) as T;
  const config = await json<HfConfig>('config.json');
  const gen = await json<GenerationConfig>('generation_config.json');
  const tokenizerConfig = await json<object>('tokenizer_config.json').catch(() => ({}));
  const tokenizer = new Tokenizer(await json<object>('tokenizer.json'), tokenizerConfig);
  return {
    nMels: config.num_mel_bins,
    decoderLayers: config.decoder_layers,
    decoderHeads: config.decoder_attention_heads,
    headDim: config.d_model / config.decoder_attention_heads,
    maxTargetPositions: config.max_target_positions ?? 448,
    tokens: whisperTokens(tokenizer, gen, config.vocab_size),
    tokenizer,
  };
}
