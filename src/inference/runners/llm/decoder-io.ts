import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { fromHalfArray } from '../whisper/half.ts';

/*
 * What a decoder-only export takes and gives, read from its session instead of assumed:
 * optimum fp32 exports, onnx-community fp16 / q4f16 exports (float16 caches and logits),
 * exports without position_ids (positions from the cache length) and exports with a
 * num_logits_to_keep input. onnxruntime-node ignores feeds a graph does not declare, so
 * what is fed and how sequences may be batched must follow these facts.
 */

export type CacheType = 'float32' | 'float16';
export type CacheArray = Float32Array | Uint16Array;

export interface DecoderIo {
  layers: number;
  /** Element type of every past_key_values.* input (and so of the presents fed back). */
  cacheType: CacheType;
  /** The export takes position_ids: left-padded rows can be batched with their own positions. */
  positionIds: boolean;
  /** The export takes num_logits_to_keep: prefill returns the last position's logits only. */
  logitsToKeep: boolean;
  /** Outputs fetched from every run: logits and the presents, nothing else. */
  fetches: string[];
}

const pastName = (l: number, kind: 'key' | 'value') => `past_key_values.${l}.${kind}`;
const presentName = (l: number, kind: 'key' | 'value') => `present.${l}.${kind}`;

/** Reads the interface from the session; throws a plain Error naming what is missing or unsupported. */
export function decoderIo(session: InferenceSession, layers: number): DecoderIo {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  for (const name of ['input_ids', 'attention_mask']) if (!inputs.has(name)) throw new Error(`the export has no ${name} input`);
  if (!outputs.has('logits')) throw new Error('the export has no logits output');
  const fetches = ['logits'];
  let cacheType: CacheType | undefined;
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value'] as const) {
      const name = pastName(l, kind);
      const type = floatInputType(session, name);
      if (!type) throw new Error(`the export has no ${name} input (config.json says ${layers} layers)`);
      if (!outputs.has(presentName(l, kind))) throw new Error(`the export has no ${presentName(l, kind)} output`);
      if (cacheType && type !== cacheType) throw new Error(`past_key_values mix ${cacheType} and ${type}`);
      cacheType = type;
      fetches.push(presentName(l, kind));
    }
  }
  return { layers, cacheType: cacheType ?? 'float32', positionIds: inputs.has('position_ids'), logitsToKeep: inputs.has('num_logits_to_keep'), fetches };
}

/**
 * The element type the session declares for float input `name` (undefined when it has no such
 * input). Exports differ here: fp16 and q4f16 files take float16 caches, fp32 and q4 float32,
 * so callers allocate what the graph says, never what another session produced.
 */
export function floatInputType(session: InferenceSession, name: string): CacheType | undefined {
  const meta = session.inputMetadata.find((m) => m.name === name);
  if (!meta) return undefined;
  const type = meta.isTensor ? meta.type : 'non-tensor';
  if (type !== 'float32' && type !== 'float16') throw new Error(`${name} is ${type}; float32 and float16 are supported`);
  return type;
}

export function allocCache(type: CacheType, length: number): CacheArray {
  return type === 'float16' ? new Uint16Array(length) : new Float32Array(length);
}

export function cacheTensor(type: CacheType, data: CacheArray, dims: readonly number[]): Tensor {
  return type === 'float16' ? new Tensor('float16', data as Uint16Array, dims) : new Tensor('float32', data as Float32Array, dims);
}

/** Feeds of a fresh sequence's empty cache: [batch, kvHeads, 0, headDim] per layer. */
export function emptyPast(io: DecoderIo, batch: number, kvHeads: number, headDim: number): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (let l = 0; l < io.layers; l++) {
    for (const kind of ['key', 'value'] as const) feeds[pastName(l, kind)] = cacheTensor(io.cacheType, allocCache(io.cacheType, 0), [batch, kvHeads, 0, headDim]);
  }
  return feeds;
}

export const pastFeed = pastName;
export const presentOutput = presentName;

/**
 * The logits of batch row `row` at its last returned position, as float32 (a fresh copy the
 * sampler may modify). Works for [B, S, V] (every position) and [B, 1, V] (num_logits_to_keep).
 */
export function lastLogits(logits: Tensor, row: number): Float32Array {
  const [, positions, vocab] = logits.dims as [number, number, number];
  const start = (row * positions + positions - 1) * vocab;
  if (logits.type === 'float32') return (logits.data as Float32Array).slice(start, start + vocab);
  if (logits.type === 'float16') return fromHalfArray(logits.data as Uint16Array, start, start + vocab);
  throw new Error(`logits are ${logits.type}; float32 and float16 are supported`);
}
