import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestModels } from '../../src/inference/index.ts';
import { decoderOnlyFile, GREEDY } from '../../src/inference/runners/llm/index.ts';
import { LocalLlm } from '../../src/inference/runners/llm/local-llm.ts';
import type { GenerateParams } from '../../src/inference/runners/llm/protocol.ts';
import { CHAT_TEST_DIMS, writeChatTestModel, type DecoderExport } from '../../src/inference/runners/llm/test-model.ts';
import { fromHalfArray, toHalfArray } from '../../src/inference/runners/whisper/half.ts';
import { cpuRuntime } from './helpers.ts';

/*
 * The decoder-only runner on every export interface the generator writes (real onnxruntime,
 * generated random-weight models): fp16 caches and logits as onnx-community's fp16 / q4f16
 * exports, no position_ids (positions from the cache length), num_logits_to_keep.
 */

const VARIANTS: Record<string, DecoderExport> = {
  'fp32 (optimum)': {},
  'fp16 caches and logits': { cacheType: 'float16', logitsType: 'float16' },
  'fp16 caches, fp32 logits': { cacheType: 'float16' },
  'no position_ids': { positionIds: false },
  num_logits_to_keep: { logitsToKeep: true },
  'q4f16-style: fp16, no position_ids, num_logits_to_keep': { cacheType: 'float16', logitsType: 'float16', positionIds: false, logitsToKeep: true },
};

const prompts = [
  [257, 104, 105, 258, 10, 257, 97],
  [257, 115, 121, 115, 116, 101, 109, 10, 121, 111, 117, 32, 97, 114, 101, 258],
  [257, 120, 258],
  [257, 100, 101, 102, 258, 10, 99],
];
const greedy = (maxTokens: number): GenerateParams => ({ sampling: GREEDY, seed: 1, maxTokens, stopTokens: [] });
const { layers, kvHeads, headDim, vocabSize } = CHAT_TEST_DIMS;

async function collect(gen: AsyncIterable<number>): Promise<number[]> {
  const tokens: number[] = [];
  for await (const t of gen) tokens.push(t);
  return tokens;
}

const int64 = (values: number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
const floats = (type: 'float32' | 'float16', values: Float32Array, dims: number[]) =>
  type === 'float16' ? new Tensor('float16', toHalfArray(values), dims) : new Tensor('float32', values, dims);
const asFloat32 = (t: Tensor) => (t.type === 'float16' ? fromHalfArray(t.data as Uint16Array) : (t.data as Float32Array));

/** Runs a batch of left-padded rows through the raw session with no cache; returns each row's last logits. */
async function rawLast(session: InferenceSession, v: DecoderExport, rows: number[][]): Promise<Float32Array[]> {
  const S = Math.max(...rows.map((r) => r.length));
  const ids = rows.flatMap((r) => [...new Array<number>(S - r.length).fill(0), ...r]);
  const mask = rows.flatMap((r) => [...new Array<number>(S - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
  const pos = rows.flatMap((r) => [...new Array<number>(S - r.length).fill(0), ...r.map((_, i) => i)]);
  const B = rows.length;
  const feeds: Record<string, Tensor> = { input_ids: int64(ids, [B, S]), attention_mask: int64(mask, [B, S]) };
  if (v.positionIds !== false) feeds.position_ids = int64(pos, [B, S]);
  if (v.logitsToKeep) feeds.num_logits_to_keep = int64([0], []);
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${l}.${kind}`] = floats(v.cacheType ?? 'float32', new Float32Array(0), [B, kvHeads, 0, headDim]);
  }
  const out = await session.run(feeds);
  const logits = out.logits as Tensor;
  expect(logits.type).toBe(v.logitsType ?? 'float32');
  expect((out['present.0.key'] as Tensor).type).toBe(v.cacheType ?? 'float32');
  const all = asFloat32(logits);
  return rows.map((_, b) => all.slice(((b + 1) * S - 1) * vocabSize, (b + 1) * S * vocabSize));
}

const argmaxOf = (l: Float32Array) => l.indexOf(Math.max(...l));

describe('generated decoder exports differ the way real ones do', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-llm-export-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an export without position_ids gives a left-padded row different logits than the row alone', async () => {
    const v: DecoderExport = { positionIds: false };
    writeChatTestModel(join(dir, 'nopos'), 5, v);
    const session = await InferenceSession.create(join(dir, 'nopos', 'onnx/model.onnx'));
    expect(session.inputNames).not.toContain('position_ids');
    const [alone] = await rawLast(session, v, [prompts[2]!]);
    const [, padded] = await rawLast(session, v, [prompts[1]!, prompts[2]!]);
    expect(padded).not.toEqual(alone);
    await session.release();
  });

  it('num_logits_to_keep = 1 returns the last position only, equal to the full output’s last row', async () => {
    const v: DecoderExport = { logitsToKeep: true, cacheType: 'float16', logitsType: 'float16' };
    writeChatTestModel(join(dir, 'keep'), 5, v);
    const session = await InferenceSession.create(join(dir, 'keep', 'onnx/model.onnx'));
    const S = prompts[1]!.length;
    const feeds: Record<string, Tensor> = { input_ids: int64(prompts[1]!, [1, S]), attention_mask: int64(new Array<number>(S).fill(1), [1, S]), position_ids: int64(prompts[1]!.map((_, i) => i), [1, S]) };
    for (let l = 0; l < layers; l++) for (const kind of ['key', 'value']) feeds[`past_key_values.${l}.${kind}`] = floats('float16', new Float32Array(0), [1, kvHeads, 0, headDim]);
    const last = await session.run({ ...feeds, num_logits_to_keep: int64([1], []) });
    const all = await session.run({ ...feeds, num_logits_to_keep: int64([0], []) });
    expect((last.logits as Tensor).dims).toEqual([1, 1, vocabSize]);
    expect((all.logits as Tensor).dims).toEqual([1, S, vocabSize]);
    expect(asFloat32(last.logits as Tensor)).toEqual(asFloat32(all.logits as Tensor).slice((S - 1) * vocabSize));
    await session.release();
  });
});

describe('loading decoder exports', () => {
  it('the registered qwen3-0.6b test model has an fp16 file, as onnx-community’s, that the runner loads for dtype fp16 and decodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentphone-llm-fp16-'));
    try {
      const [made] = makeTestModels(dir, ['qwen3-0.6b']);
      const llm = await LocalLlm.start({ ...cpuRuntime('qwen3-0.6b', made!.dir), dtype: 'fp16' }, { maxBatch: 2, file: decoderOnlyFile('fp16') });
      try {
        expect(await collect(llm.generate(prompts[0]!, greedy(4)))).toHaveLength(4);
      } finally {
        await llm.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to load, with a 503 naming what is missing, an export without a past input config.json promises', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentphone-llm-bad-'));
    try {
      writeChatTestModel(dir);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: layers + 1 }));
      await expect(LocalLlm.start(cpuRuntime('tiny-bad', dir), { maxBatch: 2 })).rejects.toMatchObject({
        status: 503,
        message: `model tiny-bad could not be loaded: the export has no past_key_values.${layers}.key input (config.json says ${layers + 1} layers)`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(Object.entries(VARIANTS))('local decoder-only runner on the %s export', (label, variant) => {
  let dir: string;
  let llm: LocalLlm;
  let model: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-llm-variant-'));
    model = join(dir, 'chat');
    writeChatTestModel(model, 5, variant);
    llm = await LocalLlm.start(cpuRuntime(`tiny-${label}`, model), { maxBatch: 8 });
  });
  afterAll(async () => {
    await llm?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decodes with its KV cache what a full recompute of the sequence gives', async () => {
    const tokens = await collect(llm.generate(prompts[1]!, greedy(12)));
    expect(tokens).toHaveLength(12);
    const session = await InferenceSession.create(join(model, 'onnx/model.onnx'));
    for (const n of [0, 5, 11]) {
      const [last] = await rawLast(session, variant, [[...prompts[1]!, ...tokens.slice(0, n)]]);
      expect(argmaxOf(last!)).toBe(tokens[n]);
    }
    await session.release();
  });

  it('gives every sequence, bit for bit, the same tokens alone as batched with others', async () => {
    const alone: number[][] = [];
    for (const p of prompts) alone.push(await collect(llm.generate(p, greedy(10))));
    const before = await llm.stats();
    const together = await Promise.all(prompts.map((p) => collect(llm.generate(p, greedy(10)))));
    const after = await llm.stats();
    expect(together).toEqual(alone);
    // prompts 0 and 3 have the same length: batched together whatever the export.
    expect(after.maxBatchSeen).toBeGreaterThanOrEqual(2);
    expect(after.steps - before.steps).toBeLessThan(after.batchedTokens - before.batchedTokens);
  });

  it('copies back the logits of the last position only where the export allows it', async () => {
    const before = await llm.stats();
    const tokens = await collect(llm.generate(prompts[1]!, greedy(6)));
    const after = await llm.stats();
    // Runs: one prefill of the prompt, then one decode per further token.
    const rows = variant.logitsToKeep ? tokens.length : prompts[1]!.length + tokens.length - 1;
    expect(after.logitValues - before.logitValues).toBe(rows * vocabSize);
  });
});
