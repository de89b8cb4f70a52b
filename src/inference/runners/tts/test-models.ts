import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph, randomValues, rng, writeOnnx } from '../../generator/index.ts';
import { TEST_MODEL_MARKER } from '../../registry.ts';
import { byteTokenizerJson, writeDecoderOnlyModel, type DecoderDims } from '../llm/test-model.ts';
import { AUDIO_TOKEN_BASE, CODEBOOK_SIZE, ORPHEUS_TOKENS, SAMPLES_PER_FRAME, TOKENS_PER_FRAME } from './snac-codes.ts';

/** Orpheus-3B's real vocabulary (Llama-3 128256 + specials + 7 × 4096 audio tokens), tiny everything else. */
export const ORPHEUS_TEST_DIMS: DecoderDims = { vocabSize: 156940, hidden: 8, layers: 1, heads: 2, kvHeads: 1, headDim: 4, maxPositions: 4096 };
/** Orpheus-3B (Llama-3.2-3B): what the GPU bench builds with random weights. */
export const ORPHEUS_3B_DIMS: DecoderDims = { vocabSize: 156940, hidden: 3072, layers: 28, heads: 24, kvHeads: 8, headDim: 128, maxPositions: 8192, ffn: 8192 };

const blockOf = (t: number) => {
  const b = Math.floor((t - AUDIO_TOKEN_BASE) / CODEBOOK_SIZE);
  return t >= AUDIO_TOKEN_BASE && b < TOKENS_PER_FRAME ? b : TOKENS_PER_FRAME;
};

/**
 * A tiny Orpheus LM: the real vocabulary and special tokens, a byte-level tokenizer that adds
 * <|begin_of_text|>, random weights, plus a fixed bias so that after a token of frame position
 * p it almost always emits one of position p+1 (after any other token, position 0): its audio is
 * noise, but it is well-formed, so the whole TTS pipeline runs on it.
 */
export function writeOrpheusTestModel(dir: string, seed = 21, dims: DecoderDims = ORPHEUS_TEST_DIMS): void {
  const specials: Array<{ id: number; content: string }> = [
    { id: ORPHEUS_TOKENS.beginOfText, content: '<|begin_of_text|>' },
    { id: ORPHEUS_TOKENS.endOfText, content: '<|eot_id|>' },
  ];
  for (let n = 0; n < 10; n++) specials.push({ id: 128256 + n, content: `<custom_token_${n}>` });
  writeDecoderOnlyModel(dir, {
    dims,
    seed,
    modelType: 'llama',
    tokenizer: byteTokenizerJson(specials, '<|begin_of_text|>'),
    tokenizerConfig: { tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', model_max_length: 4096 },
    eosTokenIds: [ORPHEUS_TOKENS.endOfSpeech],
    bosTokenId: ORPHEUS_TOKENS.beginOfText,
    transition: {
      classes: TOKENS_PER_FRAME + 1,
      classOf: blockOf,
      bonus: (cls, t) => (blockOf(t) === (cls === TOKENS_PER_FRAME ? 0 : (cls + 1) % TOKENS_PER_FRAME) ? 16 : 0),
    },
    note: 'random weights: speech is noise',
    family: 'orpheus',
  });
}

/** The SNAC 24 kHz decoder export's interface: audio_codes.0/1/2 [B, n | 2n | 4n] → audio_values [B, 1, 2048 n]. */
export function snacDecoderGraph(seed: number, width = 8): Graph {
  const g = new Graph('snac_decoder');
  const next = rng(seed);
  const w = (dims: number[], scale: number) => g.init('w', 'float32', dims, randomValues(dims.reduce((a, b) => a * b, 1), scale, next));
  g.output('audio_values', 'float32', ['batch_size', 1, 'num_samples']);
  const parts = [0, 1, 2].map((level) => {
    const codes = g.input(`audio_codes.${level}`, 'int64', ['batch_size', `codes_length_${level}`]);
    const hop = SAMPLES_PER_FRAME >> level;
    const e = g.op('Gather', [w([CODEBOOK_SIZE, width], 1), codes]);
    return g.op('Reshape', [g.op('MatMul', [e, w([width, hop], 0.3 / Math.sqrt(width))]), g.ints([0, 1, -1])]);
  });
  g.op('Tanh', [g.op('Add', [g.op('Add', [parts[0] as string, parts[1] as string]), parts[2] as string])], {}, ['audio_values']);
  return g;
}

export function writeSnacTestModel(dir: string, seed = 31, width = 8): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify({ model_type: 'snac', sampling_rate: 24000, hop_length: 512, vq_strides: [4, 2, 1], codebook_size: 4096 }, null, 2)}\n`);
  writeOnnx(join(dir, 'onnx'), 'decoder_model.onnx', snacDecoderGraph(seed, width));
  writeFileSync(join(dir, TEST_MODEL_MARKER), `${JSON.stringify({ generated: true, family: 'snac', note: 'random weights: audio is noise' }, null, 2)}\n`);
}
