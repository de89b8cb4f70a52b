import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GREEDY } from '../../src/inference/runners/llm/index.ts';
import { LocalLlm } from '../../src/inference/runners/llm/local-llm.ts';
import { CHAT_TEST_DIMS, writeChatTestModel, type DecoderExport } from '../../src/inference/runners/llm/test-model.ts';
import { decoderOnlyRun, total, type DecoderOnlyShape } from '../../src/inference/step-bytes.ts';
import { cpuRuntime } from './helpers.ts';

/*
 * The bytes the real decode loop (llm-worker, its own thread, a real onnxruntime session on a
 * generated model) feeds and fetches, against decoderOnlyRun: the formula bench/gpu-io.ts
 * applies to Qwen3-0.6B and Orpheus-3B sizes.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.each([
  ['fp32 with position_ids', {}],
  ['fp16 caches and logits, num_logits_to_keep, no position_ids', { cacheType: 'float16', logitsType: 'float16', logitsToKeep: true, positionIds: false }],
] as Array<[string, DecoderExport]>)('decoderOnlyRun on the %s export', (_label, variant) => {
  it('equals the bytes one prefill and every decode step of one sequence move', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentphone-step-bytes-'));
    dirs.push(dir);
    writeChatTestModel(dir, 5, variant);
    const llm = await LocalLlm.start(cpuRuntime('tiny', dir), { maxBatch: 4 });
    try {
      const prompt = [257, 104, 105, 258, 10, 257, 97];
      const before = await llm.stats();
      const tokens: number[] = [];
      for await (const t of llm.generate(prompt, { sampling: GREEDY, seed: 1, maxTokens: 6, stopTokens: [] })) tokens.push(t);
      const after = await llm.stats();
      const shape: DecoderOnlyShape = {
        ...CHAT_TEST_DIMS,
        cacheBytes: variant.cacheType === 'float16' ? 2 : 4,
        logitsBytes: variant.logitsType === 'float16' ? 2 : 4,
        positionIds: variant.positionIds !== false,
        logitsToKeep: variant.logitsToKeep === true,
      };
      // One prefill of the prompt, then one decode step per further token.
      const runs = [decoderOnlyRun(shape, 0, prompt.length)];
      for (let i = 1; i < tokens.length; i++) runs.push(decoderOnlyRun(shape, prompt.length + i - 1, 1));
      expect(tokens).toHaveLength(6);
      expect(after.fedBytes - before.fedBytes).toBe(runs.reduce((a, r) => a + total(r.fed), 0));
      expect(after.fetchedBytes - before.fetchedBytes).toBe(runs.reduce((a, r) => a + total(r.fetched), 0));
    } finally {
      await llm.close();
    }
  });
});
