import { Graph, randomValues, rng, type DType } from './onnx-builder.ts';

/** The dimensions that make a Whisper size (exact for the real ones, tiny for tests). */
export interface WhisperDims {
  numMelBins: number;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  ffnDim: number;
  vocabSize: number;
  maxSourcePositions: number;
  maxTargetPositions: number;
}

export const WHISPER_DIMS = {
  'large-v3': { numMelBins: 128, dModel: 1280, encoderLayers: 32, decoderLayers: 32, encoderHeads: 20, decoderHeads: 20, ffnDim: 5120, vocabSize: 51866, maxSourcePositions: 1500, maxTargetPositions: 448 },
  'large-v3-turbo': { numMelBins: 128, dModel: 1280, encoderLayers: 32, decoderLayers: 4, encoderHeads: 20, decoderHeads: 20, ffnDim: 5120, vocabSize: 51866, maxSourcePositions: 1500, maxTargetPositions: 448 },
  /** Tiny random model with the large-v3 interface (128 mel bins, 100 languages). */
  'test-v3': { numMelBins: 128, dModel: 16, encoderLayers: 1, decoderLayers: 2, encoderHeads: 2, decoderHeads: 2, ffnDim: 32, vocabSize: 51866, maxSourcePositions: 1500, maxTargetPositions: 448 },
  /** Tiny random model with the older sizes' interface (80 mel bins, 99 languages). */
  'test-v2': { numMelBins: 80, dModel: 16, encoderLayers: 1, decoderLayers: 1, encoderHeads: 2, decoderHeads: 2, ffnDim: 32, vocabSize: 51865, maxSourcePositions: 1500, maxTargetPositions: 448 },
} as const satisfies Record<string, WhisperDims>;

interface Ctx {
  g: Graph;
  ft: DType;
  next: () => number;
}

function weight(c: Ctx, prefix: string, dims: number[], scale: number): string {
  const count = dims.reduce((a, b) => a * b, 1);
  return c.g.init(prefix, c.ft, dims, randomValues(count, scale, c.next));
}

function constant(c: Ctx, dims: number[], value: number): string {
  const count = dims.reduce((a, b) => a * b, 1);
  return c.g.init('c', c.ft, dims, new Float32Array(count).fill(value));
}

/** x[..., in] · W[in, out] (+ b). Weights live in the main graph; the node goes to `n`. */
function linear(c: Ctx, n: Graph, x: string, inDim: number, outDim: number, bias: boolean): string {
  const y = n.op('MatMul', [x, weight(c, 'w', [inDim, outDim], 1 / Math.sqrt(inDim))]);
  return bias ? n.op('Add', [y, weight(c, 'b', [outDim], 0.02)]) : y;
}

function layerNorm(c: Ctx, n: Graph, x: string, d: number): string {
  return n.op('LayerNormalization', [x, constant(c, [d], 1), constant(c, [d], 0)], { axis: -1, epsilon: { float: 1e-5 } });
}

function gelu(c: Ctx, n: Graph, x: string): string {
  const erf = n.op('Erf', [n.op('Mul', [x, c.g.scalar(c.ft, Math.SQRT1_2)])]);
  return n.op('Mul', [n.op('Mul', [x, c.g.scalar(c.ft, 0.5)]), n.op('Add', [erf, c.g.scalar(c.ft, 1)])]);
}

/** [B, S, H*Dh] → [B, H, S, Dh] */
function splitHeads(c: Ctx, n: Graph, x: string, heads: number, headDim: number): string {
  return n.op('Transpose', [n.op('Reshape', [x, c.g.ints([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
}

function mergeHeads(c: Ctx, n: Graph, x: string, d: number): string {
  return n.op('Reshape', [n.op('Transpose', [x], { perm: [0, 2, 1, 3] }), c.g.ints([0, 0, d])]);
}

function attention(c: Ctx, n: Graph, q: string, k: string, v: string, headDim: number, mask?: string): string {
  let scores = n.op('Mul', [n.op('MatMul', [q, n.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), c.g.scalar(c.ft, 1 / Math.sqrt(headDim))]);
  if (mask) scores = n.op('Add', [scores, mask]);
  return n.op('MatMul', [n.op('Softmax', [scores], { axis: -1 }), v]);
}

function sinusoids(length: number, channels: number): Float32Array {
  const out = new Float32Array(length * channels);
  const half = channels / 2;
  const inc = Math.log(10000) / Math.max(1, half - 1);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.exp(-inc * i);
      out[t * channels + i] = Math.sin(a);
      out[t * channels + half + i] = Math.cos(a);
    }
  }
  return out;
}

/** encoder_model.onnx: input_features [batch, mel, frames] → last_hidden_state [batch, frames/2, d]. */
export function whisperEncoderGraph(dims: WhisperDims, ft: DType, seed: number): Graph {
  const g = new Graph('whisper_encoder');
  const c: Ctx = { g, ft, next: rng(seed) };
  const d = dims.dModel;
  const x0 = g.input('input_features', ft, ['batch_size', 'feature_size', 'encoder_sequence_length']);
  let x = gelu(c, g, g.op('Conv', [x0, weight(c, 'conv1', [d, dims.numMelBins, 3], 1 / Math.sqrt(dims.numMelBins * 3)), weight(c, 'conv1_b', [d], 0.02)], { pads: [1, 1], kernel_shape: [3] }));
  x = gelu(c, g, g.op('Conv', [x, weight(c, 'conv2', [d, d, 3], 1 / Math.sqrt(d * 3)), weight(c, 'conv2_b', [d], 0.02)], { pads: [1, 1], strides: [2], kernel_shape: [3] }));
  x = g.op('Transpose', [x], { perm: [0, 2, 1] });
  x = g.op('Add', [x, g.init('embed_positions', ft, [dims.maxSourcePositions, d], sinusoids(dims.maxSourcePositions, d))]);
  const hd = d / dims.encoderHeads;
  for (let l = 0; l < dims.encoderLayers; l++) {
    let h = layerNorm(c, g, x, d);
    const q = splitHeads(c, g, linear(c, g, h, d, d, true), dims.encoderHeads, hd);
    const k = splitHeads(c, g, linear(c, g, h, d, d, false), dims.encoderHeads, hd);
    const v = splitHeads(c, g, linear(c, g, h, d, d, true), dims.encoderHeads, hd);
    x = g.op('Add', [x, linear(c, g, mergeHeads(c, g, attention(c, g, q, k, v, hd), d), d, d, true)]);
    h = layerNorm(c, g, x, d);
    x = g.op('Add', [x, linear(c, g, gelu(c, g, linear(c, g, h, d, dims.ffnDim, true)), dims.ffnDim, d, true)]);
  }
  g.opMulti('LayerNormalization', [x, constant(c, [d], 1), constant(c, [d], 0)], { axis: -1, epsilon: { float: 1e-5 } }, ['last_hidden_state']);
  g.output('last_hidden_state', ft, ['batch_size', 'encoder_sequence_length / 2', d]);
  return g;
}

/**
 * decoder_model_merged.onnx as the optimum export lays it out: input_ids, encoder_hidden_states,
 * past_key_values.{i}.{decoder,encoder}.{key,value}, use_cache_branch → logits, present.*.
 * The cross-attention keys/values come out of an If on use_cache_branch: computed from the
 * encoder states on step one (false), passed through from the pasts after it (true).
 */
export function whisperDecoderGraph(dims: WhisperDims, ft: DType, seed: number): Graph {
  const g = new Graph('whisper_decoder_merged');
  const c: Ctx = { g, ft, next: rng(seed) };
  const d = dims.dModel;
  const H = dims.decoderHeads;
  const hd = d / H;
  const L = dims.decoderLayers;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  const enc = g.input('encoder_hidden_states', ft, ['batch_size', 'encoder_sequence_length / 2', d]);
  const past: Array<Record<'dk' | 'dv' | 'ek' | 'ev', string>> = [];
  for (let i = 0; i < L; i++) {
    past.push({
      dk: g.input(`past_key_values.${i}.decoder.key`, ft, ['batch_size', H, 'past_decoder_sequence_length', hd]),
      dv: g.input(`past_key_values.${i}.decoder.value`, ft, ['batch_size', H, 'past_decoder_sequence_length', hd]),
      ek: g.input(`past_key_values.${i}.encoder.key`, ft, ['batch_size', H, 'encoder_sequence_length_out', hd]),
      ev: g.input(`past_key_values.${i}.encoder.value`, ft, ['batch_size', H, 'encoder_sequence_length_out', hd]),
    });
  }
  const useCache = g.input('use_cache_branch', 'bool', [1]);

  g.output('logits', ft, ['batch_size', 'decoder_sequence_length', dims.vocabSize]);
  for (let i = 0; i < L; i++) {
    for (const part of ['decoder', 'encoder'] as const) {
      for (const kv of ['key', 'value']) {
        g.output(`present.${i}.${part}.${kv}`, ft, ['batch_size', H, part === 'decoder' ? 'past_decoder_sequence_length + 1' : 'encoder_sequence_length_out', hd]);
      }
    }
  }

  // Cross-attention keys/values: the If on use_cache_branch.
  const withPast = new Graph('cache_branch');
  const noPast = new Graph('no_cache_branch');
  const crossOut: string[] = [];
  for (let i = 0; i < L; i++) {
    const pk = withPast.fresh('pk');
    const pv = withPast.fresh('pv');
    withPast.opMulti('Identity', [past[i]!.ek], {}, [pk]);
    withPast.opMulti('Identity', [past[i]!.ev], {}, [pv]);
    withPast.output(pk, ft, ['batch_size', H, 'encoder_sequence_length_out', hd]);
    withPast.output(pv, ft, ['batch_size', H, 'encoder_sequence_length_out', hd]);
    const k = splitHeads(c, noPast, linear(c, noPast, enc, d, d, false), H, hd);
    const v = splitHeads(c, noPast, linear(c, noPast, enc, d, d, true), H, hd);
    const nk = noPast.fresh('nk');
    const nv = noPast.fresh('nv');
    noPast.opMulti('Identity', [k], {}, [nk]);
    noPast.opMulti('Identity', [v], {}, [nv]);
    noPast.output(nk, ft, ['batch_size', H, 'encoder_sequence_length / 2', hd]);
    noPast.output(nv, ft, ['batch_size', H, 'encoder_sequence_length / 2', hd]);
    crossOut.push(`present.${i}.encoder.key`, `present.${i}.encoder.value`);
  }
  g.opMulti('If', [useCache], { then_branch: withPast, else_branch: noPast }, crossOut);

  // Positions continue after the cached ones; the causal mask covers past + new tokens.
  const pastLen = g.op('Gather', [g.op('Shape', [past[0]!.dk]), g.scalar('int64', 2)], { axis: 0 });
  const seqLen = g.op('Gather', [g.op('Shape', [ids]), g.scalar('int64', 1)], { axis: 0 });
  const total = g.op('Add', [pastLen, seqLen]);
  const one = g.scalar('int64', 1);
  const positions = g.op('Range', [pastLen, total, one]);
  let x = g.op('Gather', [g.init('embed_tokens', ft, [dims.vocabSize, d], randomValues(dims.vocabSize * d, 0.5, c.next)), ids], { axis: 0 });
  x = g.op('Add', [x, g.op('Gather', [weight(c, 'embed_positions', [dims.maxTargetPositions, d], 0.1), positions], { axis: 0 })]);
  const rows = g.op('Unsqueeze', [positions, g.ints([1])]);
  const cols = g.op('Unsqueeze', [g.op('Range', [g.scalar('int64', 0), total, one]), g.ints([0])]);
  const mask = g.op('Where', [g.op('Greater', [cols, rows]), g.scalar(ft, -1e4), g.scalar(ft, 0)]);

  for (let i = 0; i < L; i++) {
    let h = layerNorm(c, g, x, d);
    const q = splitHeads(c, g, linear(c, g, h, d, d, true), H, hd);
    const k = splitHeads(c, g, linear(c, g, h, d, d, false), H, hd);
    const v = splitHeads(c, g, linear(c, g, h, d, d, true), H, hd);
    const kAll = g.opMulti('Concat', [past[i]!.dk, k], { axis: 2 }, [`present.${i}.decoder.key`])[0] as string;
    const vAll = g.opMulti('Concat', [past[i]!.dv, v], { axis: 2 }, [`present.${i}.decoder.value`])[0] as string;
    x = g.op('Add', [x, linear(c, g, mergeHeads(c, g, attention(c, g, q, kAll, vAll, hd, mask), d), d, d, true)]);
    h = layerNorm(c, g, x, d);
    const cq = splitHeads(c, g, linear(c, g, h, d, d, true), H, hd);
    const cross = attention(c, g, cq, `present.${i}.encoder.key`, `present.${i}.encoder.value`, hd);
    x = g.op('Add', [x, linear(c, g, mergeHeads(c, g, cross, d), d, d, true)]);
    h = layerNorm(c, g, x, d);
    x = g.op('Add', [x, linear(c, g, gelu(c, g, linear(c, g, h, d, dims.ffnDim, true)), dims.ffnDim, d, true)]);
  }
  x = layerNorm(c, g, x, d);
  g.opMulti('MatMul', [x, weight(c, 'proj_out', [d, dims.vocabSize], 1 / Math.sqrt(d))], {}, ['logits']);
  return g;
}
