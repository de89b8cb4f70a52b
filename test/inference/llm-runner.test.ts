import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GREEDY } from '../../src/inference/runners/llm/index.ts';
import { LocalLlm } from '../../src/inference/runners/llm/local-llm.ts';
import type { GenerateParams } from '../../src/inference/runners/llm/protocol.ts';
import { CHAT_TEST_DIMS, writeChatTestModel } from '../../src/inference/runners/llm/test-model.ts';
import type { ModelRuntime } from '../../src/inference/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cpuRuntime } from './helpers.ts';

const greedy = (maxTokens: number, stopTokens: number[] = []): GenerateParams => ({ sampling: GREEDY, seed: 1, maxTokens, stopTokens });

async function collect(gen: AsyncIterable<number> & { reason: string | undefined }): Promise<{ tokens: number[]; reason: string | undefined }> {
  const tokens: number[] = [];
  for await (const t of gen) tokens.push(t);
  return { tokens, reason: gen.reason };
}

describe('local decoder-only runner (real onnxruntime on a generated GQA model)', () => {
  let dir: string;
  let llm: LocalLlm;
  let runtime: ModelRuntime;
  const prompts = [
    [257, 104, 105, 258, 10, 257, 97],
    [257, 115, 121, 115, 116, 101, 109, 10, 121, 111, 117, 32, 97, 114, 101, 258],
    [257, 120, 258],
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-llm-'));
    writeChatTestModel(join(dir, 'chat'));
    runtime = cpuRuntime('tiny-chat', join(dir, 'chat'));
    llm = await LocalLlm.start(runtime, { maxBatch: 8 });
  });
  afterAll(async () => {
    await llm?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decodes with the KV cache exactly what a full recompute of the sequence gives', async () => {
    const { tokens, reason } = await collect(llm.generate(prompts[1]!, greedy(12)));
    expect(reason).toBe('length');
    expect(tokens).toHaveLength(12);
    const session = await InferenceSession.create(join(runtime.dir, 'onnx/model.onnx'));
    const { layers, kvHeads, headDim, vocabSize } = CHAT_TEST_DIMS;
    for (const n of [0, 5, 11]) {
      const seq = [...prompts[1]!, ...tokens.slice(0, n)];
      const S = seq.length;
      const feeds: Record<string, Tensor> = {
        input_ids: new Tensor('int64', BigInt64Array.from(seq.map(BigInt)), [1, S]),
        attention_mask: new Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
        position_ids: new Tensor('int64', BigInt64Array.from(seq.map((_, i) => BigInt(i))), [1, S]),
      };
      for (let l = 0; l < layers; l++) {
        feeds[`past_key_values.${l}.key`] = new Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
        feeds[`past_key_values.${l}.value`] = new Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
      }
      const out = await session.run(feeds);
      const logits = (out.logits as Tensor).data as Float32Array;
      const last = logits.subarray((S - 1) * vocabSize, S * vocabSize);
      expect(last.indexOf(Math.max(...last))).toBe(tokens[n]);
      expect((out['present.0.key'] as Tensor).dims).toEqual([1, kvHeads, S, headDim]);
    }
    await session.release();
  });

  it('gives each sequence the same tokens alone or batched with others of different lengths', async () => {
    const alone = [];
    for (const p of prompts) alone.push((await collect(llm.generate(p, greedy(10)))).tokens);
    const before = await llm.stats();
    const together = await Promise.all(prompts.map((p) => collect(llm.generate(p, greedy(10)))));
    const after = await llm.stats();
    expect(together.map((t) => t.tokens)).toEqual(alone);
    expect(after.maxBatchSeen).toBeGreaterThanOrEqual(2);
    // Batched: fewer runs than tokens.
    expect(after.steps - before.steps).toBeLessThan(after.batchedTokens - before.batchedTokens);
  });

  it('stops at a stop token without emitting it', async () => {
    const { tokens } = await collect(llm.generate(prompts[0]!, greedy(10)));
    const stop = tokens[3]!;
    const first = tokens.indexOf(stop);
    const stopped = await collect(llm.generate(prompts[0]!, greedy(10, [stop])));
    expect(stopped.reason).toBe('stop');
    expect(stopped.tokens).toEqual(tokens.slice(0, first));
  });

  it('samples reproducibly for a seed', async () => {
    const params = (seed: number): GenerateParams => ({ sampling: { temperature: 1, topP: 0.95, topK: 50, repetitionPenalty: 1.1 }, seed, maxTokens: 16, stopTokens: [] });
    const a = await collect(llm.generate(prompts[2]!, params(7)));
    const b = await collect(llm.generate(prompts[2]!, params(7)));
    const c = await collect(llm.generate(prompts[2]!, params(8)));
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
  });

  it('answers 503 past its in-flight limit instead of queueing without bound', async () => {
    const small = await LocalLlm.start(runtime, { maxBatch: 1, maxInFlight: 2 });
    try {
      const controller = new AbortController();
      const held = [small.generate(prompts[0]!, greedy(100_000), controller.signal), small.generate(prompts[1]!, greedy(100_000), controller.signal)];
      expect(() => small.generate(prompts[2]!, greedy(4))).toThrow(expect.objectContaining({ status: 503, message: 'model tiny-chat is at capacity (2 sequences in flight); try again shortly' }));
      controller.abort();
      for (const g of held) for await (const _ of g) void _;
      expect((await collect(small.generate(prompts[2]!, greedy(4)))).tokens).toHaveLength(4);
    } finally {
      await small.close();
    }
  });

  it('drops a sequence whose caller aborts', async () => {
    const controller = new AbortController();
    const gen = llm.generate(prompts[0]!, greedy(100_000), controller.signal);
    const got: number[] = [];
    for await (const t of gen) {
      got.push(t);
      if (got.length === 3) controller.abort();
    }
    expect(gen.reason).toBe('cancelled');
    expect(got.length).toBeLessThan(100);
  });

  it('closes mid-generation by letting the loop finish its step and exit, never terminating the thread inside session.run', async () => {
    const own = await LocalLlm.start(runtime, { maxBatch: 4 });
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    try {
      const gen = own.generate(prompts[0]!, greedy(100_000));
      const first = gen[Symbol.asyncIterator]();
      await first.next();
      await own.close(60_000);
      expect(terminate).not.toHaveBeenCalled();
      expect(gen.reason).toBe('error');
      expect(() => own.generate(prompts[0]!, greedy(1))).toThrow(/shutting down/);
    } finally {
      terminate.mockRestore();
    }
  });
});
