/**
 * bench:tts — Orpheus TTS on the tiny generated models (Orpheus vocabulary, SNAC interface):
 * time to first audio byte, real-time factor, and the gateway's overhead (HTTP, auth, decode
 * loop thread, SNAC on the worker pool, streaming) against the same pipeline as direct
 * onnxruntime calls in one thread, interleaved in the same run (target: < 5 % overhead).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Tokenizer } from '@huggingface/tokenizers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { v1Routes } from '../src/api/routes/v1/index.ts';
import { voiceAiRoutes } from '../src/api/routes/v1/voice-ai.ts';
import { validateConfig } from '../src/config/index.ts';
import { buildCoreApp, createCore } from '../src/core.ts';
import { transcriptionRoutes } from '../src/api/routes/v1/transcriptions.ts';
import { createInference, makeTestModels, WhisperService } from '../src/inference/index.ts';
import { UsageRepository } from '../src/store/index.ts';
import { Rng, sampleToken } from '../src/inference/runners/llm/index.ts';
import { floatToPcm16, ORPHEUS_TEST_DIMS, ORPHEUS_TOKENS, orpheusPrompt, SAMPLE_RATE_HZ, SnacStreamWindow, type DecodeStep } from '../src/inference/runners/tts/index.ts';
import { wavFile } from '../src/inference/runners/tts/wav.ts';
import { silentLogger } from '../src/logging/index.ts';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const TEXT = 'Hello, this is a benchmark of AgentPhone speech.';
const SAMPLING = { temperature: 0.6, topP: 0.8, topK: 0, repetitionPenalty: 1.3 };
const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-tts-'));
const modelsDir = join(dir, 'models');
makeTestModels(modelsDir, ['orpheus-3b', 'snac-24khz', 'whisper-large-v3']);
const BUSY_AUDIO_S = Number(process.env.BENCH_BUSY_AUDIO_S ?? 120);

interface Run {
  firstMs: number;
  totalMs: number;
  audioS: number;
}

/** The whole pipeline as plain onnxruntime calls on this thread: prefill, KV decode, SNAC windows. */
async function direct(lm: InferenceSession, snac: InferenceSession, tokenizer: Tokenizer, seed: number): Promise<Run> {
  const t0 = performance.now();
  const { layers, kvHeads, headDim, vocabSize } = ORPHEUS_TEST_DIMS;
  const prompt = orpheusPrompt({ encode: (t) => tokenizer.encode(t).ids }, 'tara', TEXT);
  const rng = new Rng(seed);
  const seen = new Set(prompt);
  const window = new SnacStreamWindow();
  let firstMs = NaN;
  let bytes = 0;
  const decode = async (step: DecodeStep) => {
    const n = step.snac.frames;
    const out = await snac.run({
      'audio_codes.0': new Tensor('int64', step.snac.codes0, [1, n]),
      'audio_codes.1': new Tensor('int64', step.snac.codes1, [1, 2 * n]),
      'audio_codes.2': new Tensor('int64', step.snac.codes2, [1, 4 * n]),
    });
    const pcm = floatToPcm16((out.audio_values as Tensor).data as Float32Array, step.keepFrom, step.keepTo);
    if (Number.isNaN(firstMs)) firstMs = performance.now() - t0;
    bytes += pcm.length;
  };
  let ids = prompt;
  let past: Record<string, Tensor> = {};
  for (let l = 0; l < layers; l++) {
    past[`past_key_values.${l}.key`] = new Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
    past[`past_key_values.${l}.value`] = new Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
  }
  let len = 0;
  for (let produced = 0; produced < FRAMES * 7; produced++) {
    const S = ids.length;
    const out = await lm.run({
      input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, S]),
      attention_mask: new Tensor('int64', new BigInt64Array(len + S).fill(1n), [1, len + S]),
      position_ids: new Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(len + i))), [1, S]),
      ...past,
    });
    len += S;
    past = {};
    for (let l = 0; l < layers; l++) {
      past[`past_key_values.${l}.key`] = out[`present.${l}.key`] as Tensor;
      past[`past_key_values.${l}.value`] = out[`present.${l}.value`] as Tensor;
    }
    const logits = (out.logits as Tensor).data as Float32Array;
    const token = sampleToken(logits.slice((S - 1) * vocabSize, S * vocabSize), SAMPLING, rng, seen);
    if (token === ORPHEUS_TOKENS.endOfSpeech) break;
    seen.add(token);
    ids = [token];
    const step = window.push(token);
    if (step) await decode(step);
  }
  const tail = window.finish();
  if (tail) await decode(tail);
  return { firstMs, totalMs: performance.now() - t0, audioS: bytes / 2 / SAMPLE_RATE_HZ };
}

async function viaGateway(url: string, key: string): Promise<Run> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/v1/audio/speech`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'orpheus-3b', voice: 'tara', input: TEXT, response_format: 'pcm' }),
  });
  if (!res.ok) throw new Error(`speech failed: ${res.status} ${await res.text()}`);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let firstMs = NaN;
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(firstMs)) firstMs = performance.now() - t0;
    bytes += value.length;
  }
  return { firstMs, totalMs: performance.now() - t0, audioS: bytes / 2 / SAMPLE_RATE_HZ };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  const session = { provider: 'cpu' as const, intraOpThreads: 1, interOpThreads: 1 };
  const config = validateConfig({
    dataDir: join(dir, 'gw'),
    adminToken: 'bench-admin-token-0123456789',
    log: { level: 'silent' },
    inference: { modelsDir, workers: 1, session },
    speech: { maxAudioTokens: FRAMES * 7 },
  });
  const core = await createCore(config, silentLogger());
  const inference = createInference(config, silentLogger(), core.metrics);
  const voiceAi = voiceAiRoutes({ ...core, inference });
  // Transcriptions too, as the gateway serves them: the busy row runs them beside speech.
  const whisper = new WhisperService(inference);
  const app = await buildCoreApp(core, {
    apiRoutes: [
      (api) => api.register(v1Routes, { prefix: '/v1', ...voiceAi }),
      (api) => api.register(transcriptionRoutes, { prefix: '/v1', whisper, usage: new UsageRepository(core.store.db), clock: core.clock, maxAudioBytes: config.inference.maxAudioBytes }),
    ],
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const key = (await core.apiKeys.create({ name: 'bench' })).key;

  const opts = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  const lm = await InferenceSession.create(join(modelsDir, 'orpheus-3b', 'onnx/model.onnx'), opts);
  const snac = await InferenceSession.create(join(modelsDir, 'snac-24khz', 'onnx/decoder_model.onnx'), opts);
  const json = (f: string) => JSON.parse(readFileSync(join(modelsDir, 'orpheus-3b', f), 'utf8')) as object;
  const tokenizer = new Tokenizer(json('tokenizer.json'), json('tokenizer_config.json'));

  await direct(lm, snac, tokenizer, 1);
  await viaGateway(url, key);
  const d: Run[] = [];
  const g: Run[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    d.push(await direct(lm, snac, tokenizer, i + 2));
    g.push(await viaGateway(url, key));
  }

  // Speech while a long transcription runs (the stt pool busy the whole time): first audio
  // should stay within 1.5× of its idle value, as speech and transcription have pools of their own.
  const pcm = Buffer.alloc(BUSY_AUDIO_S * 16000 * 2);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(Math.sin(i * 0.06) * 9000 + Math.sin(i * 0.011) * 4000), i * 2);
  const long = wavFile(pcm, 16000);
  let transcribing = true;
  let transcriptions = 0;
  const busy = (async () => {
    while (transcribing) {
      const form = new FormData();
      form.append('file', new Blob([long]), 'long.wav');
      form.append('model', 'whisper-large-v3');
      const res = await fetch(`${url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });
      const answer = await res.text();
      if (res.ok) transcriptions++;
      else throw new Error(`transcription failed: ${res.status} ${answer.slice(0, 300)}`);
    }
  })();
  await new Promise((r) => setTimeout(r, 300)); // the transcription is under way
  const b: Run[] = [];
  for (let i = 0; i < ROUNDS; i++) b.push(await viaGateway(url, key));
  transcribing = false;
  await busy;
  await app.close();
  await voiceAi.close();
  await inference.close();
  await core.close();

  const show = (name: string, runs: Run[]) => {
    const total = median(runs.map((r) => r.totalMs));
    const audio = median(runs.map((r) => r.audioS));
    console.log(`  ${name.padEnd(16)} first audio ${median(runs.map((r) => r.firstMs)).toFixed(1).padStart(7)} ms   total ${total.toFixed(1).padStart(7)} ms   audio ${audio.toFixed(2)} s   ${(audio / (total / 1000)).toFixed(2)}× real time`);
    return total;
  };
  console.log(`Orpheus TTS on tiny generated models, ${FRAMES} frames per request, ${ROUNDS} interleaved rounds (medians), CPU:`);
  const dt = show('direct ORT', d);
  const gt = show('gateway (HTTP)', g);
  const overhead = (gt / dt - 1) * 100;
  console.log(`  gateway overhead vs direct onnxruntime: ${overhead.toFixed(1)} % (target < 5 % → ${overhead < 5 ? 'met' : 'NOT met'})`);
  show('gateway, busy', b);
  const idleFirst = median(g.map((r) => r.firstMs));
  const busyFirst = median(b.map((r) => r.firstMs));
  const ratio = busyFirst / idleFirst;
  console.log(
    `  first audio while ${BUSY_AUDIO_S} s transcriptions run (${transcriptions} finished meanwhile): ${ratio.toFixed(2)}× idle (target ≤ 1.5× → ${ratio <= 1.5 ? 'met' : 'NOT met'}; speech and transcription run on pools of their own)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
