import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.ts';
import { createInference, WhisperService, type Inference } from '../../../src/inference/index.ts';
import { WHISPER_DIMS, writeWhisperModel } from '../../../src/inference/generator/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';

/**
 * Real exports pair encoder and decoder files whose float types differ (encoder_model.onnx
 * beside decoder_model_merged_fp16.onnx; q4 decoders taking float32 beside an fp16 encoder).
 * Two tiny generated models, one each way, go through the real worker pool: the decoder's
 * pasts and encoder states must follow the decoder's own input types, not the encoder output's.
 */
describe('Whisper with encoder and decoder of different float types', () => {
  let dir: string;
  let inference: Inference;
  let whisper: WhisperService;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-whisper-mixed-'));
    // fp32 encoder graph, fp16 decoder graph (both named *_fp16.onnx, as the dtype picks the files).
    writeWhisperModel(join(dir, 'fp32-encoder'), { dims: WHISPER_DIMS['test-v3'], dtype: 'fp16', encoderDtype: 'fp32' });
    // fp16 encoder graph, fp32 decoder graph.
    writeWhisperModel(join(dir, 'fp16-encoder'), { dims: WHISPER_DIMS['test-v3'], dtype: 'fp32', encoderDtype: 'fp16' });
    const model = (name: string, dtype: 'fp16' | 'fp32') => ({ name, family: 'whisper', repo: 'agentphone/generated', dir: join(dir, name), dtype });
    const config = validateConfig({
      dataDir: join(dir, 'data'),
      adminToken: 'test-admin-token-0123456789',
      log: { level: 'silent' },
      inference: {
        workers: 1,
        session: { provider: 'cpu', intraOpThreads: 1, interOpThreads: 1 },
        models: [model('fp32-encoder', 'fp16'), model('fp16-encoder', 'fp32')],
      },
      upstreams: [],
    });
    inference = createInference(config, silentLogger(), new Registry());
    whisper = new WhisperService(inference);
  });

  afterAll(async () => {
    await inference?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the generated files really differ: float32 encoder output, float16 decoder inputs', async () => {
    const encoder = await InferenceSession.create(join(dir, 'fp32-encoder', 'onnx/encoder_model_fp16.onnx'));
    const decoder = await InferenceSession.create(join(dir, 'fp32-encoder', 'onnx/decoder_model_merged_fp16.onnx'));
    expect(encoder.outputMetadata[0]).toMatchObject({ name: 'last_hidden_state', type: 'float32' });
    const types = Object.fromEntries(decoder.inputMetadata.map((m) => [m.name, m.isTensor ? m.type : 'non-tensor']));
    expect(types).toMatchObject({ encoder_hidden_states: 'float16', 'past_key_values.0.decoder.key': 'float16', 'past_key_values.1.encoder.value': 'float16' });
    await Promise.all([encoder.release(), decoder.release()]);
  });

  const pcm = Float32Array.from({ length: 32_000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16_000));

  // One temperature (no fallback ladder) keeps the random-weight decode to a single pass.
  for (const name of ['fp32-encoder', 'fp16-encoder']) {
    it(`transcribes with the ${name} model`, async () => {
      const result = await whisper.transcribe(pcm, { model: name, language: 'en', temperature: 0.5 });
      expect(typeof result.text).toBe('string');
      expect(result.language).toBe('en');
      expect(result.durationS).toBeCloseTo(2, 5);
    }, 120_000);
  }

  it('detects the language and seeks with timestamps through the fp32-encoder / fp16-decoder model', async () => {
    const result = await whisper.transcribe(pcm, { model: 'fp32-encoder', temperature: 0.5 });
    expect(result.language).toMatch(/^[a-z]{2,3}$/);
    expect(Array.isArray(result.segments)).toBe(true);
  }, 120_000);
});
