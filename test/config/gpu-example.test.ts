import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { ModelDtype } from '../../src/inference/index.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

/*
 * The dtypes each repository of the GPU example has weight files for, as recorded on
 * 2026-12-04 from the repositories' onnx/ listings and pages on huggingface.co (found with the
 * project's search tool; `agentphone models pull` derives the same from the hub's file list):
 * - Xenova/whisper-large-v3, tree/main/onnx: encoder_model.onnx(+_data), encoder_model_quantized.onnx,
 *   decoder_model_merged.onnx(+_data), decoder_model_merged_quantized.onnx → fp32, q8. No fp16
 *   (the example asked for fp16 before, which `models pull` could never fetch).
 * - onnx-community/whisper-large-v3-turbo: onnx/encoder_model_fp16.onnx and
 *   decoder_model_merged_fp16.onnx, encoder_model_quantized.onnx and decoder_model_merged_quantized.onnx
 *   (file history pages) → fp16, q8.
 * - onnx-community/orpheus-3b-0.1-ft-ONNX, onnx-community/Qwen3-0.6B-ONNX: transformers.js
 *   exports (onnx/model*.onnx); projects load Qwen3 with dtype q4 (transformers.js' own
 *   text-generation default) and q8, Orpheus with q4f16. Their fp16 files (model_fp16.onnx, the
 *   layout every onnx-community transformers.js LLM export has) were not seen in a listing: re-check
 *   with `models pull` when changing these entries.
 * - onnx-community/snac_24khz-ONNX: onnx/decoder_model.onnx → fp32.
 */
const OFFERED: Record<string, readonly ModelDtype[]> = {
  'Xenova/whisper-large-v3': ['fp32', 'q8'],
  'onnx-community/whisper-large-v3-turbo': ['fp16', 'q8'],
  'onnx-community/orpheus-3b-0.1-ft-ONNX': ['fp16', 'q4f16'],
  'onnx-community/Qwen3-0.6B-ONNX': ['fp16', 'q4', 'q8'],
  'onnx-community/snac_24khz-ONNX': ['fp32'],
};

describe('config/examples/gpu-inference.yaml', () => {
  const config = loadConfig({ configPath: 'config/examples/gpu-inference.yaml', env: {}, cwd: repoRoot });

  it('parses, and asks each repository only for a dtype it has files for', () => {
    expect(config.inference.models.length).toBeGreaterThan(0);
    for (const m of config.inference.models) {
      expect(OFFERED, `${m.name}: no recorded offerings for ${m.repo}`).toHaveProperty([m.repo]);
      expect(OFFERED[m.repo], `${m.name}: ${m.repo} has no ${m.dtype} files`).toContain(m.dtype);
    }
  });

  it('serves calls with the fp16 turbo export', () => {
    const stt = config.inference.models.find((m) => m.name === config.voice.sttModel);
    expect(stt).toMatchObject({ family: 'whisper', repo: 'onnx-community/whisper-large-v3-turbo', dtype: 'fp16' });
  });
});
