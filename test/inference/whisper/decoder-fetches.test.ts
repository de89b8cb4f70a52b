import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { meterSession, type MeteredSession } from '../../../src/inference/io-meter.ts';
import { total, whisperRun, type WhisperShape } from '../../../src/inference/step-bytes.ts';
import { WindowDecoder, type DecodeOptions } from '../../../src/inference/runners/whisper/decoder.ts';
import { loadWhisperModelInfo, type WhisperModelInfo } from '../../../src/inference/runners/whisper/model-files.ts';
import { standaloneTaskContext } from '../../../src/inference/standalone-context.ts';
import { testModelsDir } from '../helpers.ts';

/*
 * A real ONNX session on the generated large-v3-shaped Whisper export, wrapped to count what each
 * run feeds and fetches. The "fetch all" decoder is the behaviour before fetch lists: the same
 * tokens must come out of both, with the cross-attention presents fetched only on step one.
 */

const modelDir = join(testModelsDir(), 'whisper-large-v3');
let decoderFile: InferenceSession;
let hidden: Tensor;
let info: WhisperModelInfo;

const ctx = standaloneTaskContext();

const options: DecodeOptions = { language: null, task: 'transcribe', temperature: 0, bestOf: 1, promptTokens: [], segmentFrames: 3000, seed: 1 };

beforeAll(async () => {
  decoderFile = await InferenceSession.create(join(modelDir, 'onnx/decoder_model_merged.onnx'));
  const encoder = await InferenceSession.create(join(modelDir, 'onnx/encoder_model.onnx'));
  info = await loadWhisperModelInfo(modelDir);
  const features = new Float32Array(info.nMels * 3000).map((_, i) => Math.sin(i * 0.003));
  hidden = (await encoder.run({ input_features: new Tensor('float32', features, [1, info.nMels, 3000]) })).last_hidden_state as Tensor;
});

async function decodeWith(metered: MeteredSession) {
  const result = await new WindowDecoder(metered.session, info, hidden, ctx).decode(options, (ids) => ids.join(' '));
  return { result, runs: metered.runs };
}

describe('WindowDecoder fetch lists', () => {
  it('fetches the cross-attention presents only on the first step of a decode, and only logits when detecting the language', async () => {
    const { result, runs } = await decodeWith(meterSession(decoderFile));
    const encoderPresents = (names: readonly string[] | null) => (names ?? []).filter((n) => /^present\.\d+\.encoder\./.test(n));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs[0]?.fetchNames).toEqual(['logits']); // language detection
    expect(encoderPresents(runs[1]?.fetchNames ?? null)).toHaveLength(2 * info.decoderLayers);
    for (const run of runs.slice(2)) {
      expect(encoderPresents(run.fetchNames)).toEqual([]);
      expect(Object.keys(run.fetched).filter((n) => n.includes('.encoder.'))).toEqual([]);
      expect(run.fetched.logits).toBeGreaterThan(0);
    }
    expect(result.steps).toBe(runs.length);
  });

  it('decodes the same tokens as when every output is fetched, with fewer bytes fetched per cached step', async () => {
    const lean = await decodeWith(meterSession(decoderFile));
    const all = await decodeWith(meterSession(decoderFile, { fetchAll: true }));
    expect(lean.result.tokens.length).toBeGreaterThan(1);
    expect(lean.result.tokens).toEqual(all.result.tokens);
    const crossBytes = 2 * info.decoderLayers * info.decoderHeads * (hidden.dims[1] as number) * info.headDim * 4;
    for (let i = 2; i < lean.runs.length; i++) {
      expect(total((all.runs[i] as (typeof all.runs)[number]).fetched) - total((lean.runs[i] as (typeof lean.runs)[number]).fetched)).toBe(crossBytes);
    }
  });
});

describe('whisperRun (the byte formula bench/gpu-io.ts prints for the real sizes)', () => {
  it('matches the bytes each run of a real decode feeds and fetches', async () => {
    const { runs } = await decodeWith(meterSession(decoderFile));
    const shape: WhisperShape = { decoderLayers: info.decoderLayers, decoderHeads: info.decoderHeads, headDim: info.headDim, dModel: info.decoderHeads * info.headDim, encoderPositions: hidden.dims[1] as number, vocabSize: info.tokens.vocabSize, floatBytes: 4 };
    const prompt = (runs[1]?.fed.input_ids ?? 0) / 8;
    const expected = [whisperRun(shape, 'detect', 0, 1), whisperRun(shape, 'first', 0, prompt)];
    for (let i = 2; i < runs.length; i++) expected.push(whisperRun(shape, 'cached', prompt + i - 2, 1));
    expect(runs.map((r) => [total(r.fed), total(r.fetched)])).toEqual(expected.map((e) => [total(e.fed), total(e.fetched)]));
    const all = await decodeWith(meterSession(decoderFile, { fetchAll: true }));
    expect(total(all.runs[3]?.fetched ?? {})).toBe(total(whisperRun(shape, 'cached', prompt + 1, 1, true).fetched));
  });
});
