/*
 * Prepared GPU benchmark (run on a machine with an NVIDIA GPU and onnxruntime-node's CUDA
 * provider installed: ONNXRUNTIME_NODE_INSTALL=1 node node_modules/onnxruntime-node/script/install).
 *
 * Builds random-weight Whisper exports with the exact large-v3 and large-v3-turbo dimensions
 * (fp16, the real tensor names and merged decoder), then times 13 minutes of audio (26 windows
 * of 30 s) at batch 1 and batch 8: log-mel features, the encoder, and a fixed number of greedy
 * decoder steps per window through the KV cache — the work a real transcript of that length
 * needs, independent of what random weights would emit.
 *
 * Anchor to beat: faster-whisper batched, 13 min in ~16–17 s on an RTX 3070 Ti.
 *
 *   npx tsx bench/gpu/whisper-gpu.ts                          # both models, CUDA, batch 1 and 8
 *   npx tsx bench/gpu/whisper-gpu.ts --dims test-v3 --provider cpu --minutes 1 --steps 8   # CPU dry run
 * Options: --models large-v3,large-v3-turbo  --batches 1,8  --steps 100  --minutes 13
 *          --dir DIR (keeps the generated models between runs)  --device 0
 *          --weights DIR (real weights: a whisper directory `agentphone models pull` filled,
 *          e.g. data/models/whisper-large-v3-turbo, with --models naming its size and --dtype its files)
 *
 * Note: onnxruntime-node returns every output to host memory (GPU-resident outputs / IO binding
 * are Web-only), so each decoder step copies the self- and cross-attention caches across PCIe;
 * the report splits encoder and decoder time so that cost is visible.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { WHISPER_DIMS, writeWhisperModel, type WhisperDims } from '../../src/inference/generator/index.ts';
import { CHUNK_SAMPLES, logMelSpectrogram, N_FRAMES } from '../../src/inference/runners/whisper/features.ts';
import { toHalfArray } from '../../src/inference/runners/whisper/half.ts';
import { decoderFile, encoderFile } from '../../src/inference/runners/whisper/model-files.ts';
import { modelDir } from './weights.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'large-v3,large-v3-turbo' },
    dims: { type: 'string' },
    batches: { type: 'string', default: '1,8' },
    steps: { type: 'string', default: '100' },
    minutes: { type: 'string', default: '13' },
    provider: { type: 'string', default: 'cuda' },
    device: { type: 'string', default: '0' },
    dtype: { type: 'string' },
    dir: { type: 'string' },
    weights: { type: 'string' },
  },
});

const provider = values.provider === 'cpu' ? 'cpu' : 'cuda';
const dtype = (values.dtype ?? (provider === 'cpu' ? 'fp32' : 'fp16')) as 'fp16' | 'fp32';
const steps = Number(values.steps);
const windows = Math.ceil((Number(values.minutes) * 60) / 30);
const root = values.dir ?? mkdtempSync(join(tmpdir(), 'agentphone-gpu-bench-'));
const names = (values.dims ?? values.models).split(',') as Array<keyof typeof WHISPER_DIMS>;

function options(): InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: Number(values.device) }] : ['cpu'],
    graphOptimizationLevel: 'all',
  };
}

function floatTensor(data: Float32Array, dims: number[]): Tensor {
  return dtype === 'fp16' ? new Tensor('float16', toHalfArray(data), dims) : new Tensor('float32', data, dims);
}

function emptyPast(dims: WhisperDims, batch: number): Tensor {
  const shape = [batch, dims.decoderHeads, 0, dims.dModel / dims.decoderHeads];
  return dtype === 'fp16' ? new Tensor('float16', new Uint16Array(0), shape) : new Tensor('float32', new Float32Array(0), shape);
}

function argmaxRows(logits: Tensor): number[] {
  const [b, s, v] = logits.dims as [number, number, number];
  const data = logits.data as Float32Array | Uint16Array;
  const out: number[] = [];
  for (let i = 0; i < b; i++) {
    const base = (i * s + (s - 1)) * v;
    let best = 0;
    // fp16 bits order like magnitudes for positives; good enough to pick a token for timing.
    for (let k = 1; k < v; k++) if ((data[base + k] as number) > (data[base + best] as number)) best = k;
    out.push(best);
  }
  return out;
}

async function benchModel(name: keyof typeof WHISPER_DIMS): Promise<void> {
  const dims = WHISPER_DIMS[name];
  const dir = modelDir(`whisper ${name}`, values.weights, join(root, `${name}-${dtype}`), decoderFile(dtype), () =>
    writeWhisperModel(join(root, `${name}-${dtype}`), { dims, dtype, testMarker: true }),
  );
  const encoder = await InferenceSession.create(join(dir, encoderFile(dtype)), options());
  const decoder = await InferenceSession.create(join(dir, decoderFile(dtype)), options());
  const audio = new Float32Array(windows * CHUNK_SAMPLES).map((_, i) => Math.sin(i * 0.05) * 0.2);
  for (const batch of values.batches.split(',').map(Number)) {
    let featureS = 0;
    let encodeS = 0;
    let decodeS = 0;
    const started = performance.now();
    for (let w = 0; w < windows; w += batch) {
      const b = Math.min(batch, windows - w);
      let t = performance.now();
      const features = new Float32Array(b * dims.numMelBins * N_FRAMES);
      for (let i = 0; i < b; i++) {
        logMelSpectrogram(audio.subarray((w + i) * CHUNK_SAMPLES, (w + i + 1) * CHUNK_SAMPLES), dims.numMelBins, features.subarray(i * dims.numMelBins * N_FRAMES, (i + 1) * dims.numMelBins * N_FRAMES));
      }
      featureS += (performance.now() - t) / 1000;
      t = performance.now();
      const hidden = (await encoder.run({ input_features: floatTensor(features, [b, dims.numMelBins, N_FRAMES]) })).last_hidden_state as Tensor;
      encodeS += (performance.now() - t) / 1000;
      t = performance.now();
      let ids = Array.from({ length: b }, () => [50258, 50259, 50360, 50364]).flat();
      let seq = 4;
      let past: Record<string, Tensor> | null = null;
      for (let s = 0; s < steps; s++) {
        const feeds: Record<string, Tensor> = {
          input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [b, seq]),
          encoder_hidden_states: hidden,
          use_cache_branch: new Tensor('bool', [past !== null], [1]),
        };
        for (let l = 0; l < dims.decoderLayers; l++) {
          for (const part of ['decoder', 'encoder']) for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${part}.${kv}`] = past?.[`present.${l}.${part}.${kv}`] ?? emptyPast(dims, b);
        }
        const out = await decoder.run(feeds);
        const next: Record<string, Tensor> = {};
        for (let l = 0; l < dims.decoderLayers; l++) {
          for (const kv of ['key', 'value']) {
            next[`present.${l}.decoder.${kv}`] = out[`present.${l}.decoder.${kv}`] as Tensor;
            next[`present.${l}.encoder.${kv}`] = past?.[`present.${l}.encoder.${kv}`] ?? (out[`present.${l}.encoder.${kv}`] as Tensor);
          }
        }
        past = next;
        ids = argmaxRows(out.logits as Tensor);
        seq = 1;
      }
      decodeS += (performance.now() - t) / 1000;
    }
    const total = (performance.now() - started) / 1000;
    console.log(
      `${name} ${dtype} ${provider}: ${(windows * 30) / 60} min audio, batch ${batch}, ${steps} decoder steps/window: ` +
        `${total.toFixed(2)} s (features ${featureS.toFixed(2)} s, encoder ${encodeS.toFixed(2)} s, decoder ${decodeS.toFixed(2)} s); ` +
        `anchor faster-whisper batched ≈ 16–17 s (RTX 3070 Ti)`,
    );
  }
}

for (const name of names) await benchModel(name);
