/*
 * Prepared GPU benchmark for Orpheus TTS (run on a machine with an NVIDIA GPU and
 * onnxruntime-node's CUDA provider installed:
 *   ONNXRUNTIME_NODE_INSTALL=1 node node_modules/onnxruntime-node/script/install).
 *
 * Builds a random-weight decoder-only model with Orpheus-3B's dimensions (Llama-3.2-3B:
 * hidden 3072, 28 layers, 24 heads / 8 KV heads of 128, gated MLP 8192, vocabulary 156 940; fp32
 * weights, ~13 GB, learned positions instead of RoPE) and a SNAC-interface decoder, then runs
 * the gateway's own TTS pipeline (decode-loop thread with continuous batching + SNAC windows on
 * the inference pool) and reports time to first audio and real-time factor for 1, 4 and 16
 * concurrent requests. The random model carries the same frame-position bias as the tiny test
 * model, so it emits well-formed audio tokens until the token limit.
 *
 * Anchors: Orpheus's own ~200 ms streaming latency; Orpheus-FastAPI ~2× real time on high-end GPUs.
 *
 *   npx tsx bench/gpu/tts-orpheus-3b.ts                        # CUDA, 3B-sized, 1/4/16 streams
 *   npx tsx bench/gpu/tts-orpheus-3b.ts --tiny --provider cpu  # CPU dry run on the tiny models
 * Options: --frames 100 (audio per request, 85 ms a frame)  --streams 1,4,16
 *          --dir DIR (keeps the generated models between runs)  --device 0
 *          --lm-dir DIR --snac-dir DIR --lm-dtype fp16 (real weights: directories `agentphone
 *          models pull` filled for orpheus-3b and snac-24khz)
 *
 * Note: onnxruntime-node returns outputs to host memory, so each step copies the logits and the
 * KV presents across PCIe (IO binding is Web-only); the loop keeps the batch cache between steps
 * but still pays that copy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { validateConfig } from '../../src/config/index.ts';
import { createInference } from '../../src/inference/index.ts';
import { decoderOnlyFile } from '../../src/inference/runners/llm/index.ts';
import { findVoice, ORPHEUS_3B_DIMS, ORPHEUS_TEST_DIMS, SAMPLE_RATE_HZ, TtsService, writeOrpheusTestModel, writeSnacTestModel } from '../../src/inference/runners/tts/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { Registry } from 'prom-client';
import type { ModelDtype } from '../../src/inference/types.ts';
import { modelDir } from './weights.ts';

const { values: args } = parseArgs({
  options: {
    tiny: { type: 'boolean', default: false },
    provider: { type: 'string', default: 'cuda' },
    device: { type: 'string', default: '0' },
    frames: { type: 'string', default: '100' },
    streams: { type: 'string', default: '1,4,16' },
    dir: { type: 'string' },
    'lm-dir': { type: 'string' },
    'lm-dtype': { type: 'string' },
    'snac-dir': { type: 'string' },
  },
});

const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'agentphone-gpu-tts-'));
const lmDtype = args['lm-dtype'] ?? 'fp32';
const lmFile = decoderOnlyFile(lmDtype as ModelDtype);
const lmGenerated = join(dir, args.tiny ? 'orpheus-tiny' : 'orpheus-3b-sized');
const snacGenerated = join(dir, args.tiny ? 'snac-tiny' : 'snac-wide');
const lmDir = modelDir('orpheus LM', args['lm-dir'], lmGenerated, lmFile, () => writeOrpheusTestModel(lmGenerated, 21, args.tiny ? ORPHEUS_TEST_DIMS : ORPHEUS_3B_DIMS));
const snacDir = modelDir('snac', args['snac-dir'], snacGenerated, join('onnx', 'decoder_model.onnx'), () => writeSnacTestModel(snacGenerated, 31, args.tiny ? 8 : 512));

const frames = Number(args.frames);
const provider = args.provider as 'cuda' | 'cpu';
const config = validateConfig({
  dataDir: dir,
  log: { level: 'info' },
  inference: {
    workers: 1,
    session: { provider, deviceId: Number(args.device) },
    models: [
      { name: 'orpheus-3b', family: 'orpheus', repo: 'local', dir: lmDir, dtype: lmDtype },
      { name: 'snac-24khz', family: 'snac', repo: 'local', dir: snacDir },
    ],
  },
  speech: { maxAudioTokens: frames * 7 },
});
const logger = createLogger({ level: 'info' });
const inference = createInference(config, logger, new Registry());
const tts = new TtsService(inference, config.speech, 16);
const voice = findVoice('tara');
if (!voice) throw new Error('no voice tara');
const text = 'Hey there, this is a benchmark of the AgentPhone speech pipeline on a big GPU.';

async function one(): Promise<{ firstMs: number; totalMs: number; audioS: number }> {
  const t0 = performance.now();
  let firstMs = NaN;
  let bytes = 0;
  for await (const chunk of tts.synthesize(text, voice as NonNullable<typeof voice>, new AbortController().signal)) {
    if (Number.isNaN(firstMs)) firstMs = performance.now() - t0;
    bytes += chunk.length;
  }
  return { firstMs, totalMs: performance.now() - t0, audioS: bytes / 2 / SAMPLE_RATE_HZ };
}

try {
  console.log('warm-up (session creation) ...');
  await one();
  console.log(`Orpheus TTS pipeline, ${args['lm-dir'] ? `real LM weights (${lmDtype})` : `${args.tiny ? 'tiny' : 'Orpheus-3B-sized'} random weights`}, provider ${provider} (see the session log line for the one used), ${frames} frames a request:`);
  for (const streams of args.streams.split(',').map(Number)) {
    const t0 = performance.now();
    const runs = await Promise.all(Array.from({ length: streams }, () => one()));
    const wallS = (performance.now() - t0) / 1000;
    const first = runs.map((r) => r.firstMs).sort((a, b) => a - b);
    const audio = runs.reduce((a, r) => a + r.audioS, 0);
    console.log(
      `  ${String(streams).padStart(2)} concurrent: first audio p50 ${first[Math.floor(streams / 2)]!.toFixed(0)} ms (anchor ~200 ms), ` +
        `per-stream ${(runs[0]!.audioS / (runs[0]!.totalMs / 1000)).toFixed(2)}× real time, aggregate ${(audio / wallS).toFixed(2)}× real time (anchor ~2×)`,
    );
  }
} finally {
  await tts.close();
  await inference.close();
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
}
