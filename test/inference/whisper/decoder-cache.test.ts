import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { applySuppression } from '../../../src/inference/runners/whisper/logits.ts';
import { loadWhisperModelInfo, type WhisperModelInfo } from '../../../src/inference/runners/whisper/model-files.ts';
import { testModelsDir } from '../helpers.ts';

const modelDir = join(testModelsDir(), 'whisper-large-v3');
let decoder: InferenceSession;
let encoder: InferenceSession;
let info: WhisperModelInfo;

beforeAll(async () => {
  decoder = await InferenceSession.create(join(modelDir, 'onnx/decoder_model_merged.onnx'));
  encoder = await InferenceSession.create(join(modelDir, 'onnx/encoder_model.onnx'));
  info = await loadWhisperModelInfo(modelDir);
});

const empty = () => new Tensor('float32', new Float32Array(0), [1, info.decoderHeads, 0, info.headDim]);

async function run(ids: number[], hidden: Tensor, past: Record<string, Tensor> | null) {
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    encoder_hidden_states: hidden,
    use_cache_branch: new Tensor('bool', [past !== null], [1]),
  };
  for (let i = 0; i < info.decoderLayers; i++) {
    for (const part of ['decoder', 'encoder']) for (const kv of ['key', 'value']) feeds[`past_key_values.${i}.${part}.${kv}`] = past?.[`present.${i}.${part}.${kv}`] ?? empty();
  }
  return decoder.run(feeds);
}

function lastRow(t: Tensor): Float32Array {
  const v = t.dims[2] as number;
  const s = t.dims[1] as number;
  return (t.data as Float32Array).slice((s - 1) * v, s * v);
}

describe('generated Whisper export', () => {
  it('has the real exports\' input and output names, dtypes and symbolic dims', () => {
    expect(encoder.inputMetadata).toEqual([{ name: 'input_features', isTensor: true, type: 'float32', shape: ['batch_size', 'feature_size', 'encoder_sequence_length'] }]);
    expect(encoder.outputNames).toEqual(['last_hidden_state']);
    const byName = Object.fromEntries(decoder.inputMetadata.map((m) => [m.name, m]));
    expect(byName.input_ids).toMatchObject({ type: 'int64', shape: ['batch_size', 'decoder_sequence_length'] });
    expect(byName.use_cache_branch).toMatchObject({ type: 'bool', shape: [1] });
    expect(byName['past_key_values.0.decoder.key']).toMatchObject({ type: 'float32', shape: ['batch_size', info.decoderHeads, 'past_decoder_sequence_length', info.headDim] });
    expect(byName['past_key_values.0.encoder.value']).toMatchObject({ type: 'float32', shape: ['batch_size', info.decoderHeads, 'encoder_sequence_length_out', info.headDim] });
    expect(decoder.outputNames).toContain('logits');
    expect(decoder.outputNames).toContain(`present.${info.decoderLayers - 1}.encoder.key`);
    expect(info.nMels).toBe(128);
    expect(info.tokens).toMatchObject({ eot: 50257, sot: 50258, transcribe: 50360, noTimestamps: 50364, timestampBegin: 50365 });
  });

  it('decodes the same with the KV cache as over the whole sequence at once', async () => {
    const features = new Float32Array(128 * 3000).map((_, i) => Math.sin(i * 0.001));
    const hidden = (await encoder.run({ input_features: new Tensor('float32', features, [1, 128, 3000]) })).last_hidden_state as Tensor;
    const ids = [50258, 50259, 50360, 400, 1234, 50365, 77];
    const whole = lastRow((await run(ids, hidden, null)).logits as Tensor);
    let out = await run(ids.slice(0, 3), hidden, null);
    const cache: Record<string, Tensor> = {};
    const keep = (o: InferenceSession.ReturnType, first: boolean) => {
      for (const [k, v] of Object.entries(o)) if (k.startsWith('present.') && (first || k.includes('.decoder.'))) cache[k] = v as Tensor;
    };
    keep(out, true);
    for (const id of ids.slice(3)) {
      out = await run([id], hidden, cache);
      keep(out, false);
    }
    const cached = lastRow(out.logits as Tensor);
    let worst = 0;
    for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs((whole[i] as number) - (cached[i] as number)));
    expect(worst).toBeLessThan(1e-4);
    expect(Math.max(...whole.slice(0, 100))).not.toBe(Math.min(...whole.slice(0, 100))); // not a constant output
  });

  it('applies the timestamp grammar: a first token is a timestamp within the initial limit, pairs close', () => {
    const t = info.tokens;
    const logits = new Float32Array(t.vocabSize).fill(0);
    applySuppression(logits, t, [], true);
    expect(logits[t.timestampBegin]).toBe(0);
    expect(logits[t.timestampBegin + t.maxInitialTimestampIndex + 1]).toBe(-Infinity);
    expect(logits[400]).toBe(-Infinity);
    const afterText = new Float32Array(t.vocabSize).fill(0);
    applySuppression(afterText, t, [t.timestampBegin + 10, 400, t.timestampBegin + 20], true);
    expect(afterText[400]).toBe(-Infinity); // after a lone closing timestamp: another timestamp or end of text
    expect(afterText[t.timestampBegin + 19]).toBe(-Infinity); // never going back in time
    expect(afterText[t.timestampBegin + 20]).toBe(0);
    const noTs = new Float32Array(t.vocabSize).fill(0);
    applySuppression(noTs, t, [400], false);
    expect(noTs[t.timestampBegin + 5]).toBe(-Infinity);
    expect(noTs[t.noTimestamps]).toBe(-Infinity);
    for (const s of t.suppress) expect(noTs[s]).toBe(-Infinity);
  });
});
