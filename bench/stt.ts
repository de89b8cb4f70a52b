/*
 * bench:stt — speech-to-text on the generated tiny Whisper model.
 *  1. Feature extraction throughput: log-mel of 30 s windows on one core, as × real time.
 *  2. Gateway overhead: POST /api/v1/audio/transcriptions (HTTP, multipart, WAV decode, pool,
 *     transfers, batcher) against the same decoding run directly on onnxruntime-node in this
 *     process (same code path, same seed, same number of decoder steps), interleaved, batch 1.
 * The machine is shared: read the ratios, not the absolute times.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { validateConfig } from '../src/config/index.ts';
import { startGateway } from '../src/gateway.ts';
import { decodeAudio, makeTestModels, type TaskContext } from '../src/inference/index.ts';
import { WindowDecoder } from '../src/inference/runners/whisper/decoder.ts';
import { CHUNK_SAMPLES, logMelSpectrogram, N_FRAMES } from '../src/inference/runners/whisper/features.ts';
import { loadWhisperModelInfo } from '../src/inference/runners/whisper/model-files.ts';
import { silentLogger } from '../src/logging/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const AUDIO_S = 5;
const TEMPERATURE = 0.4;

function wav(seconds: number): Buffer {
  const n = seconds * 16000;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(16000, 24);
  buf.writeUInt32LE(32000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin(i * 0.06) * 9000 + Math.sin(i * 0.011) * 4000), 44 + i * 2);
  return buf;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function featureBench(): number {
  const audio = new Float32Array(CHUNK_SAMPLES).map((_, i) => Math.sin(i * 0.05) * 0.3);
  const out = new Float32Array(128 * N_FRAMES);
  logMelSpectrogram(audio, 128, out); // warm-up
  const n = 10;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) logMelSpectrogram(audio, 128, out);
  const s = (performance.now() - t0) / 1000;
  return (n * 30) / s;
}

async function main(): Promise<void> {
  const xrt = featureBench();
  console.log(`feature extraction (128 mel, 30 s windows, one core): ${xrt.toFixed(0)}× real time (target ≥ 200×)`);

  const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-stt-'));
  try {
    makeTestModels(join(dir, 'models'), ['whisper-large-v3']);
    const modelDir = join(dir, 'models', 'whisper-large-v3');
    const body = wav(AUDIO_S);

    // Direct: the same work in this process, on sessions with the same settings.
    const opts: InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
    const encoder = await InferenceSession.create(join(modelDir, 'onnx/encoder_model.onnx'), opts);
    const decoder = await InferenceSession.create(join(modelDir, 'onnx/decoder_model_merged.onnx'), opts);
    const info = await loadWhisperModelInfo(modelDir);
    const ctx = { cancelled: () => false, throwIfCancelled: () => undefined } as unknown as TaskContext;
    const direct = async (): Promise<number> => {
      const audio = await decodeAudio(body);
      const window = new Float32Array(CHUNK_SAMPLES);
      window.set(audio);
      const features = logMelSpectrogram(window, info.nMels);
      const hidden = (await encoder.run({ input_features: new Tensor('float32', features, [1, info.nMels, N_FRAMES]) })).last_hidden_state as Tensor;
      const d = new WindowDecoder(decoder, info, hidden, ctx);
      const r = await d.decode(
        { language: 'en', task: 'transcribe', temperature: TEMPERATURE, bestOf: 5, promptTokens: [], segmentFrames: Math.floor(audio.length / 160), seed: 0 },
        (ids) => info.tokenizer.decode(ids, { skip_special_tokens: true }),
      );
      return r.steps;
    };

    const config = validateConfig({
      dataDir: join(dir, 'data'),
      server: { port: 0 },
      log: { level: 'silent' },
      virtual: { enabled: false },
      inference: { modelsDir: join(dir, 'models'), workers: 1, session: { provider: 'cpu' }, batching: { maxBatch: 1, maxWaitMs: 0 } },
    });
    const gw = await startGateway(config, silentLogger());
    const key = (await gw.core.apiKeys.create({ name: 'bench' })).key;
    const viaGateway = async (): Promise<void> => {
      const form = new FormData();
      form.append('file', new Blob([body]), 'a.wav');
      form.append('language', 'en');
      form.append('temperature', String(TEMPERATURE));
      const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });
      if (!res.ok) throw new Error(`gateway answered ${res.status}: ${await res.text()}`);
      await res.json();
    };
    try {
      const steps = await direct();
      await viaGateway();
      const tDirect: number[] = [];
      const tGateway: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        let t0 = performance.now();
        await direct();
        tDirect.push(performance.now() - t0);
        t0 = performance.now();
        await viaGateway();
        tGateway.push(performance.now() - t0);
      }
      const d = median(tDirect);
      const g = median(tGateway);
      console.log(`transcription of ${AUDIO_S} s (1 window, ${steps} decoder steps, batch 1), median of ${ROUNDS}:`);
      console.log(`  direct onnxruntime-node in-process: ${d.toFixed(1)} ms`);
      console.log(`  through the gateway (HTTP+multipart+WAV+pool): ${g.toFixed(1)} ms`);
      console.log(`  overhead: ${(((g - d) / d) * 100).toFixed(1)} % of the direct time (target < 5 %), ratio ${(g / d).toFixed(3)}`);
    } finally {
      await gw.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
