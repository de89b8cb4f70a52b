import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { WindowDecoder, type DecodeOptions } from '../../../src/inference/runners/whisper/decoder.ts';
import { loadWhisperModelInfo, type WhisperModelInfo } from '../../../src/inference/runners/whisper/model-files.ts';
import { standaloneTaskContext } from '../../../src/inference/standalone-context.ts';
import { testModelsDir } from '../helpers.ts';

/*
 * best_of samples step together through the real merged decoder (the generated large-v3-shaped
 * export): the prompt runs once, its cache is copied to every row, then each step feeds one token
 * per row. At a temperature close to 0 every draw is the likeliest token, so each row must decode
 * exactly what a lone greedy decode does: rows that read another row's logits or cache would not.
 */

const modelDir = join(testModelsDir(), 'whisper-large-v3');
let session: InferenceSession;
let hidden: Tensor;
let info: WhisperModelInfo;

beforeAll(async () => {
  session = await InferenceSession.create(join(modelDir, 'onnx/decoder_model_merged.onnx'));
  const encoder = await InferenceSession.create(join(modelDir, 'onnx/encoder_model.onnx'));
  info = await loadWhisperModelInfo(modelDir);
  const features = new Float32Array(info.nMels * 3000).map((_, i) => Math.cos(i * 0.0021));
  hidden = (await encoder.run({ input_features: new Tensor('float32', features, [1, info.nMels, 3000]) })).last_hidden_state as Tensor;
});

const decode = (options: Partial<DecodeOptions>) =>
  new WindowDecoder(session, info, hidden, standaloneTaskContext()).decode(
    { language: 'en', task: 'transcribe', temperature: 0, bestOf: 1, promptTokens: [], segmentFrames: 3000, seed: 7, ...options },
    (ids) => ids.join(' '),
  );

describe('Whisper best_of rows on the real decoder', () => {
  it('decodes each of the rows as a lone greedy decode does, in one run per step', async () => {
    const greedy = await decode({ temperature: 0 });
    const rows = await decode({ temperature: 1e-7, bestOf: 3 });
    expect(greedy.tokens.length).toBeGreaterThan(1);
    expect(rows.tokens).toEqual(greedy.tokens);
    expect(rows.avgLogprob).toBeCloseTo(greedy.avgLogprob, 3);
    // Three rows step together: as many decoder runs as the lone decode, not three times as many.
    expect(rows.steps).toBe(greedy.steps);
  }, 120_000);
});
