import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph, randomValues, rng, writeOnnx } from '../../generator/index.ts';
import { TEST_MODEL_MARKER } from '../../registry.ts';

/*
 * Tiny random-weight decoder-only models with the exact interface of the standard ONNX
 * exports (optimum / onnxruntime-genai, Llama / Qwen3 / Orpheus): input_ids, attention_mask,
 * position_ids, past_key_values.N.key/value [batch, kv_heads, past, head_dim] → logits,
 * present.N.key/value, with grouped-query attention, causal and padding masks. Positions use a
 * learned table instead of rotary embeddings: the interface is the same, the graph is smaller.
 * `DecoderExport` varies the interface the way real exports do (see docs/inference.md).
 */

export interface DecoderDims {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  maxPositions: number;
  /** Gated MLP intermediate size (Llama's gate/up/down) for real-sized models; default a 2×hidden tanh MLP. */
  ffn?: number;
}

/**
 * A fixed next-token bias by the current token's class: logits += bonus[class(token)]. Lets a
 * random model emit well-formed streams (Orpheus: audio tokens in frame-position order).
 */
export interface TransitionBias {
  classes: number;
  classOf: (token: number) => number;
  bonus: (cls: number, token: number) => number;
}

/** Where real decoder-only exports differ in their interface; the defaults are optimum's fp32 export. */
export interface DecoderExport {
  /** Element type of past_key_values.* and present.* (onnx-community fp16 / q4f16 exports: float16). */
  cacheType?: 'float32' | 'float16';
  /** Element type of logits (fp16 / q4f16 exports: float16). */
  logitsType?: 'float32' | 'float16';
  /**
   * false: no position_ids input; positions are taken from the cache length onward, as
   * GroupQueryAttention-style exports do, so a left-padded row gets the wrong positions.
   */
  positionIds?: boolean;
  /** An int64 scalar input `num_logits_to_keep`: logits for the last N positions only (0 = all). */
  logitsToKeep?: boolean;
}

const FLOAT16 = 10;
const FLOAT32 = 1;

export function decoderOnlyGraph(dims: DecoderDims, seed: number, transition?: TransitionBias, variant: DecoderExport = {}): Graph {
  const g = new Graph('decoder');
  const next = rng(seed);
  const w = (dimsOf: number[], scale: number) => g.init('w', 'float32', dimsOf, randomValues(dimsOf.reduce((a, b) => a * b, 1), scale, next));
  const { vocabSize: V, hidden: D, heads: H, kvHeads: KV, headDim: hd } = dims;
  const cacheType = variant.cacheType ?? 'float32';
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const past = Array.from({ length: dims.layers }, (_, l) =>
    (['key', 'value'] as const).map((kind) => g.input(`past_key_values.${l}.${kind}`, cacheType, ['batch_size', KV, 'past_sequence_length', hd])),
  );
  const S = g.op('Gather', [g.op('Shape', [ids]), g.scalar('int64', 1)]);
  let pos: string;
  if (variant.positionIds === false) {
    // [1, S]: past_len … past_len + S − 1, the same for every row whatever its padding.
    const pastLen = g.op('Gather', [g.op('Shape', [past[0]?.[0] as string]), g.scalar('int64', 2)]);
    pos = g.op('Unsqueeze', [g.op('Range', [pastLen, g.op('Add', [pastLen, S]), g.scalar('int64', 1)]), g.ints([0])]);
  } else {
    pos = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  }
  const keep = variant.logitsToKeep ? g.input('num_logits_to_keep', 'int64', []) : undefined;
  g.output('logits', variant.logitsType ?? 'float32', ['batch_size', keep ? 'num_logits_to_keep' : 'sequence_length', V]);
  // fp16 caches: new keys and values are rounded to half before use, so a cached step and a full
  // recompute see the same values (as in a real fp16 model).
  const toCache = (t: string) => (cacheType === 'float16' ? g.op('Cast', [t], { to: FLOAT16 }) : t);
  const fromCache = (t: string) => (cacheType === 'float16' ? g.op('Cast', [t], { to: FLOAT32 }) : t);

  let x = g.op('Add', [g.op('Gather', [w([V, D], 1), ids]), g.op('Gather', [w([dims.maxPositions, D], 0.5), pos])]);
  // Padding bias [B,1,1,T] and causal bias [S,T]: query i (at T-S+i) sees keys j <= T-S+i.
  const maskF = g.op('Cast', [mask], { to: 1 });
  const padBias = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [maskF, g.scalar('float32', 1)]), g.scalar('float32', 1e9)]), g.ints([1, 2])]);
  const T = g.op('Gather', [g.op('Shape', [mask]), g.scalar('int64', 1)]);
  const kpos = g.op('Range', [g.scalar('int64', 0), T, g.scalar('int64', 1)]);
  const qpos = g.op('Range', [g.op('Sub', [T, S]), T, g.scalar('int64', 1)]);
  const allowed = g.op('LessOrEqual', [g.op('Unsqueeze', [kpos, g.ints([0])]), g.op('Unsqueeze', [qpos, g.ints([1])])]);
  const causal = g.op('Where', [allowed, g.scalar('float32', 0), g.scalar('float32', -1e9)]);
  const bias = g.op('Add', [padBias, causal]);
  const heads = (t: string, n: number) => g.op('Transpose', [g.op('Reshape', [t, g.ints([0, 0, n, hd])])], { perm: [0, 2, 1, 3] });
  const repeat = (t: string) =>
    H === KV ? t : g.op('Reshape', [g.op('Tile', [g.op('Unsqueeze', [t, g.ints([2])]), g.ints([1, 1, H / KV, 1, 1])]), g.ints([0, H, -1, hd])]);

  for (let l = 0; l < dims.layers; l++) {
    const [pastK, pastV] = past[l] as [string, string];
    const q = heads(g.op('MatMul', [x, w([D, H * hd], 1 / Math.sqrt(D))]), H);
    const present = (pastT: string, kind: 'key' | 'value') => {
      const fresh = toCache(heads(g.op('MatMul', [x, w([D, KV * hd], 1 / Math.sqrt(D))]), KV));
      const name = `present.${l}.${kind}`;
      g.op('Concat', [pastT, fresh], { axis: 2 }, [name]);
      g.output(name, cacheType, ['batch_size', KV, 'total_sequence_length', hd]);
      return fromCache(name);
    };
    const k = present(pastK, 'key');
    const v = present(pastV, 'value');
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [repeat(k)], { perm: [0, 1, 3, 2] })]), g.scalar('float32', 1 / Math.sqrt(hd))]), bias]);
    const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), repeat(v)]);
    const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.ints([0, 0, H * hd])]);
    x = g.op('Add', [x, g.op('MatMul', [merged, w([H * hd, D], 1 / Math.sqrt(H * hd))])]);
    if (dims.ffn) {
      const F = dims.ffn;
      const gate = g.op('Tanh', [g.op('MatMul', [x, w([D, F], 1 / Math.sqrt(D))])]);
      const up = g.op('MatMul', [x, w([D, F], 1 / Math.sqrt(D))]);
      x = g.op('Add', [x, g.op('MatMul', [g.op('Mul', [gate, up]), w([F, D], 1 / Math.sqrt(F))])]);
    } else {
      x = g.op('Add', [x, g.op('MatMul', [g.op('Tanh', [g.op('MatMul', [x, w([D, 2 * D], 1 / Math.sqrt(D))])]), w([2 * D, D], 1 / Math.sqrt(2 * D))])]);
    }
  }
  let logits = g.op('MatMul', [x, w([D, V], 1 / Math.sqrt(D))]);
  if (transition) {
    const C = transition.classes;
    const oneHot = new Float32Array(V * C);
    for (let t = 0; t < V; t++) oneHot[t * C + transition.classOf(t)] = 1;
    const bonus = new Float32Array(C * V);
    for (let c = 0; c < C; c++) for (let t = 0; t < V; t++) bonus[c * V + t] = transition.bonus(c, t);
    const cls = g.op('Gather', [g.init('cls', 'float32', [V, C], oneHot), ids]);
    logits = g.op('Add', [logits, g.op('MatMul', [cls, g.init('bonus', 'float32', [C, V], bonus)])]);
  }
  if (keep) {
    // x[:, -keep:, :] (keep = 0: every position, as in transformers).
    const start = g.op('Neg', [g.op('Unsqueeze', [keep, g.ints([0])])]);
    logits = g.op('Slice', [logits, start, g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])]);
  }
  if (variant.logitsType === 'float16') logits = g.op('Cast', [logits], { to: FLOAT16 });
  g.op('Identity', [logits], {}, ['logits']);
  return g;
}

/** A byte-level BPE tokenizer.json (256 byte tokens, no merges) with the given special tokens. */
export function byteTokenizerJson(specials: Array<{ id: number; content: string }>, bos?: string): object {
  const chars = bytesToUnicodeChars();
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: bos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [bos]: { id: bos, ids: [specials.find((s) => s.content === bos)?.id ?? 0], tokens: [bos] } },
        }
      : null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(chars.map((c, i) => [c, i])),
      merges: [],
    },
  };
}

/** GPT-2's byte → printable character map, in byte order (token id = byte value). */
function bytesToUnicodeChars(): string[] {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + n++));
}

export interface DecoderModelFiles {
  dims: DecoderDims;
  seed: number;
  modelType: string;
  tokenizer: object;
  tokenizerConfig: object;
  eosTokenIds: number[];
  bosTokenId: number | null;
  transition?: TransitionBias;
  note: string;
  family: string;
  /** The export's interface (default: optimum's fp32 one). */
  variant?: DecoderExport;
  /** The ONNX file under onnx/ (default model.onnx; model_fp16.onnx for a dtype's file). */
  file?: string;
}

/** Writes config.json, generation_config.json, tokenizer files and onnx/model.onnx. */
export function writeDecoderOnlyModel(dir: string, m: DecoderModelFiles): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const json = (file: string, value: object) => writeFileSync(join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  const { dims } = m;
  json('config.json', {
    architectures: ['LlamaForCausalLM'],
    model_type: m.modelType,
    vocab_size: dims.vocabSize,
    hidden_size: dims.hidden,
    num_hidden_layers: dims.layers,
    num_attention_heads: dims.heads,
    num_key_value_heads: dims.kvHeads,
    head_dim: dims.headDim,
    max_position_embeddings: dims.maxPositions,
    bos_token_id: m.bosTokenId,
    eos_token_id: m.eosTokenIds.length === 1 ? m.eosTokenIds[0] : m.eosTokenIds,
    torch_dtype: 'float32',
  });
  json('generation_config.json', { bos_token_id: m.bosTokenId, eos_token_id: m.eosTokenIds, do_sample: true });
  json('tokenizer.json', m.tokenizer);
  json('tokenizer_config.json', m.tokenizerConfig);
  writeOnnx(join(dir, 'onnx'), m.file ?? 'model.onnx', decoderOnlyGraph(dims, m.seed, m.transition, m.variant));
  json(TEST_MODEL_MARKER, { generated: true, family: m.family, note: m.note });
}

/** ChatML special tokens of the tiny chat model (Qwen's layout, after the 256 byte tokens). */
export const CHAT_TEST_SPECIALS = { endOfText: 256, imStart: 257, imEnd: 258 } as const;

export const CHAT_TEST_DIMS: DecoderDims = { vocabSize: 260, hidden: 16, layers: 2, heads: 4, kvHeads: 2, headDim: 4, maxPositions: 2048 };

/** A tiny chat LM with a Qwen3-style ChatML tokenizer (random weights: its answers are noise). */
export function writeChatTestModel(dir: string, seed = 5, variant?: DecoderExport, file?: string): void {
  const specials = [
    { id: CHAT_TEST_SPECIALS.endOfText, content: '<|endoftext|>' },
    { id: CHAT_TEST_SPECIALS.imStart, content: '<|im_start|>' },
    { id: CHAT_TEST_SPECIALS.imEnd, content: '<|im_end|>' },
  ];
  writeDecoderOnlyModel(dir, {
    dims: CHAT_TEST_DIMS,
    seed,
    modelType: 'qwen3',
    tokenizer: byteTokenizerJson(specials),
    tokenizerConfig: { tokenizer_class: 'Qwen2Tokenizer', eos_token: '<|im_end|>', pad_token: '<|endoftext|>', bos_token: null, model_max_length: 2048 },
    eosTokenIds: [CHAT_TEST_SPECIALS.imEnd, CHAT_TEST_SPECIALS.endOfText],
    bosTokenId: null,
    note: 'random weights: chat answers are noise',
    family: 'llm',
    ...(variant && { variant }),
    ...(file && { file }),
  });
}
