/**
 * bench:gpu-io — what each decoder step copies across PCIe when a model runs in-process on the
 * CUDA provider, and whether that alone fits the real-time budget.
 *
 * onnxruntime-node 1.30 has no IO binding for CUDA (its only device-resident outputs are WebGPU
 * buffers), so every tensor fed goes host→device and every output fetched device→host on every
 * run, the KV caches included. Part 1 applies the transfer formula (src/inference/step-bytes.ts)
 * to the real model sizes: per token as the loops run now, as they ran before fetch lists
 * (Whisper fetched every output, the cross-attention cache included), and the floor an engine
 * with device-resident caches pays (ids in, logits out). Part 2 runs the real loops on CPU with
 * tiny generated models, counts the bytes each run feeds and fetches, and checks the formula
 * against them. No GPU is needed: the PCIe times are bytes ÷ --gbps, not measurements.
 *
 *   npm run bench:gpu-io                       # 25 GB/s (PCIe 4.0 x16, pinned); pageable memory gets less
 *   npm run bench:gpu-io -- --gbps 12 --past 512,2048
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { makeTestModels } from '../src/inference/index.ts';
import { WHISPER_DIMS, type WhisperDims } from '../src/inference/generator/index.ts';
import { meterSession } from '../src/inference/io-meter.ts';
import { GREEDY } from '../src/inference/runners/llm/index.ts';
import { LocalLlm } from '../src/inference/runners/llm/local-llm.ts';
import { CHAT_TEST_DIMS, type DecoderDims } from '../src/inference/runners/llm/test-model.ts';
import { ORPHEUS_3B_DIMS } from '../src/inference/runners/tts/test-models.ts';
import { WindowDecoder } from '../src/inference/runners/whisper/decoder.ts';
import { loadWhisperModelInfo } from '../src/inference/runners/whisper/model-files.ts';
import { decoderOnlyRun, total, whisperRun, type DecoderOnlyShape, type StepBytes, type WhisperShape } from '../src/inference/step-bytes.ts';
import { standaloneTaskContext } from '../src/inference/standalone-context.ts';

const { values } = parseArgs({ options: { gbps: { type: 'string', default: '25' }, past: { type: 'string', default: '512,1024,2048' } } });
const GBPS = Number(values.gbps);
const PASTS = (values.past as string).split(',').map(Number);

/** Qwen3-0.6B, from onnx-community/Qwen3-0.6B-ONNX config.json (hidden_size 1024, 28 layers, 16 heads, 8 KV heads, head_dim 128, vocab 151936). */
const QWEN3_0_6B_DIMS: DecoderDims = { vocabSize: 151936, hidden: 1024, layers: 28, heads: 16, kvHeads: 8, headDim: 128, maxPositions: 40960 };
/** SNAC 24 kHz: 7 Orpheus tokens per 2048-sample frame → tokens per second of audio. */
const ORPHEUS_TOKENS_PER_S = (24_000 / 2048) * 7;
/** Whisper in a call: a ~15-token utterance transcribed within ~300 ms of its end (our target, not a standard). */
const WHISPER_TOKEN_BUDGET_MS = 20;
/** Chat feeding speech: 20 tokens/s per stream keeps well ahead of speaking rate (our target). */
const CHAT_TOKEN_BUDGET_MS = 50;

const mb = (bytes: number) => (bytes / 1e6).toFixed(bytes < 1e6 ? 3 : 1);
const ms = (bytes: number) => (bytes / (GBPS * 1e9)) * 1000;
const fmtMs = (bytes: number) => ms(bytes).toFixed(2);

interface Row {
  model: string;
  dtype: string;
  at: string;
  now: StepBytes;
  before?: StepBytes;
  floor: StepBytes;
  budgetMs: number;
}

function whisperShape(d: WhisperDims, floatBytes: number): WhisperShape {
  return { decoderLayers: d.decoderLayers, decoderHeads: d.decoderHeads, headDim: d.dModel / d.decoderHeads, dModel: d.dModel, encoderPositions: d.maxSourcePositions, vocabSize: d.vocabSize, floatBytes };
}

function llmShape(d: DecoderDims, bytes: number, logitsToKeep: boolean): DecoderOnlyShape {
  return { layers: d.layers, kvHeads: d.kvHeads, headDim: d.headDim, vocabSize: d.vocabSize, cacheBytes: bytes, logitsBytes: bytes, positionIds: true, logitsToKeep };
}

/** An engine with device-resident caches: token ids in, logits (or one sampled id) out. */
const floorOf = (s: StepBytes): StepBytes => ({ fed: { input_ids: s.fed.input_ids ?? 0 }, fetched: { logits: s.fetched.logits ?? 0 } });

function part1(): Row[] {
  const rows: Row[] = [];
  for (const name of ['large-v3', 'large-v3-turbo'] as const) {
    for (const [dtype, bytes] of [['fp32', 4], ['fp16', 2]] as const) {
      const s = whisperShape(WHISPER_DIMS[name], bytes);
      const now = whisperRun(s, 'cached', 100, 1);
      rows.push({ model: `whisper-${name}`, dtype, at: 'step 100', now, before: whisperRun(s, 'cached', 100, 1, true), floor: floorOf(now), budgetMs: WHISPER_TOKEN_BUDGET_MS });
    }
  }
  for (const [model, dims, budgetMs] of [
    ['orpheus-3b', ORPHEUS_3B_DIMS, 1000 / ORPHEUS_TOKENS_PER_S],
    ['qwen3-0.6b', QWEN3_0_6B_DIMS, CHAT_TOKEN_BUDGET_MS],
  ] as const) {
    for (const [dtype, bytes] of [['fp32', 4], ['fp16', 2]] as const) {
      for (const past of PASTS) {
        const now = decoderOnlyRun(llmShape(dims, bytes, false), past, 1);
        rows.push({ model, dtype, at: `past ${past}`, now, floor: floorOf(now), budgetMs });
      }
    }
  }
  return rows;
}

function printPart1(rows: Row[]): void {
  console.log(`\nPart 1 — bytes per generated token (batch 1) and the PCIe time they imply at ${GBPS} GB/s`);
  console.log('  (copies only, no compute; onnxruntime-node does them before and after each run, not overlapped)\n');
  console.log('  model                   dtype  at          H→D MB   D→H MB  PCIe ms  before: D→H MB  PCIe ms  floor ms  budget ms  copies fit?');
  for (const r of rows) {
    const h2d = total(r.now.fed);
    const d2h = total(r.now.fetched);
    const before = r.before ? `${mb(total(r.before.fetched)).padStart(14)}  ${fmtMs(total(r.before.fed) + total(r.before.fetched)).padStart(7)}` : `${'-'.padStart(14)}  ${'-'.padStart(7)}`;
    const copyMs = ms(h2d + d2h);
    const fit = copyMs < r.budgetMs * 0.5 ? 'yes' : copyMs < r.budgetMs ? 'barely' : 'no';
    console.log(
      `  ${r.model.padEnd(22)}  ${r.dtype.padEnd(5)}  ${r.at.padEnd(10)}  ${mb(h2d).padStart(7)}  ${mb(d2h).padStart(7)}  ${copyMs.toFixed(2).padStart(7)}  ${before}  ${fmtMs(total(r.floor.fed) + total(r.floor.fetched)).padStart(8)}  ${r.budgetMs.toFixed(1).padStart(9)}  ${fit}`,
    );
  }
  console.log('\n  before: as the Whisper loop ran before fetch lists (the cross-attention presents fetched on every step).');
  console.log('  floor: device-resident caches (vLLM, TensorRT-LLM, llama.cpp server, ORT with CUDA IO binding from C++/Python).');
  console.log('  copies fit?: yes under half the budget, barely under it, no over it — before any compute.');
  const batch = 8;
  const q = decoderOnlyRun(llmShape(QWEN3_0_6B_DIMS, 2, false), 2048, 1, batch);
  console.log(`  qwen3-0.6b fp16, ${batch} streams batched at past 2048: ${mb(total(q.fed) + total(q.fetched))} MB per step = ${fmtMs(total(q.fed) + total(q.fetched))} ms of copies per step.`);
  const prompt = 1000;
  for (const keep of [false, true]) {
    const p = decoderOnlyRun(llmShape(QWEN3_0_6B_DIMS, 2, keep), 0, prompt);
    console.log(`  qwen3-0.6b fp16 prefill of ${prompt} tokens${keep ? ' with num_logits_to_keep' : ', export without num_logits_to_keep'}: logits fetched ${mb(p.fetched.logits ?? 0)} MB (${fmtMs(p.fetched.logits ?? 0)} ms)`);
  }
}

const ctx = standaloneTaskContext();

async function part2(): Promise<void> {
  console.log('\nPart 2 — measured on CPU with tiny generated models: bytes each run of the real loops feeds and fetches, against the formula\n');
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-gpu-io-'));
  try {
    const [whisper, qwen] = makeTestModels(dir, ['whisper-large-v3', 'qwen3-0.6b']);
    const wdir = (whisper as { dir: string }).dir;
    const info = await loadWhisperModelInfo(wdir);
    const encoder = await InferenceSession.create(join(wdir, 'onnx/encoder_model.onnx'));
    const decoder = await InferenceSession.create(join(wdir, 'onnx/decoder_model_merged.onnx'));
    const features = new Float32Array(info.nMels * 3000).map((_, i) => Math.sin(i * 0.003));
    const hidden = (await encoder.run({ input_features: new Tensor('float32', features, [1, info.nMels, 3000]) })).last_hidden_state as Tensor;
    const shape: WhisperShape = { decoderLayers: info.decoderLayers, decoderHeads: info.decoderHeads, headDim: info.headDim, dModel: info.decoderHeads * info.headDim, encoderPositions: hidden.dims[1] as number, vocabSize: info.tokens.vocabSize, floatBytes: 4 };
    const options = { language: null, task: 'transcribe', temperature: 0, bestOf: 1, promptTokens: [], segmentFrames: 3000, seed: 1 } as const;
    for (const fetchAll of [false, true]) {
      const metered = meterSession(decoder, { fetchAll });
      await new WindowDecoder(metered.session, info, hidden, ctx).decode({ ...options, promptTokens: [] }, (ids) => ids.join(' '));
      const prompt = (metered.runs[1]?.fed.input_ids ?? 0) / 8;
      let matches = 0;
      metered.runs.forEach((run, i) => {
        const f = i === 0 ? whisperRun(shape, 'detect', 0, 1, fetchAll) : i === 1 ? whisperRun(shape, 'first', 0, prompt) : whisperRun(shape, 'cached', prompt + i - 2, 1, fetchAll);
        if (i === 0 && fetchAll) return; // detection with every output fetched is not a formula case
        if (total(f.fed) === total(run.fed) && total(f.fetched) === total(run.fetched)) matches++;
      });
      const last = metered.runs[metered.runs.length - 1];
      const counted = fetchAll ? metered.runs.length - 1 : metered.runs.length;
      console.log(
        `  whisper (test-v3: ${info.decoderLayers} layers, d ${shape.dModel}, 1500 positions)${fetchAll ? ', every output fetched' : ''}: ${metered.runs.length} runs; last step fed ${total(last?.fed ?? {})} B, fetched ${total(last?.fetched ?? {})} B; formula = measured on ${matches}/${counted} runs`,
      );
    }
    const llm = await LocalLlm.start({ name: 'qwen3-0.6b', family: 'llm', dir: (qwen as { dir: string }).dir, dtype: 'fp32', session: { provider: 'cpu', deviceId: 0, intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all', memoryArena: true } }, { maxBatch: 1 });
    try {
      const prompt = [257, 104, 105, 258, 10, 257, 97];
      const steps = 32;
      const before = await llm.stats();
      for await (const _ of llm.generate(prompt, { sampling: GREEDY, seed: 1, maxTokens: steps, stopTokens: [] })) void _;
      const after = await llm.stats();
      const s = llmShape(CHAT_TEST_DIMS, 4, false);
      const runs = [decoderOnlyRun(s, 0, prompt.length), ...Array.from({ length: steps - 1 }, (_, i) => decoderOnlyRun(s, prompt.length + i, 1))];
      const fed = runs.reduce((a, r) => a + total(r.fed), 0);
      const fetched = runs.reduce((a, r) => a + total(r.fetched), 0);
      console.log(
        `  decoder-only (${CHAT_TEST_DIMS.layers} layers, ${CHAT_TEST_DIMS.kvHeads} KV heads, head_dim ${CHAT_TEST_DIMS.headDim}), prompt ${prompt.length} + ${steps} tokens: fed ${after.fedBytes - before.fedBytes} B (formula ${fed}), fetched ${after.fetchedBytes - before.fetchedBytes} B (formula ${fetched})`,
      );
    } finally {
      await llm.close();
    }
    await Promise.all([encoder.release(), decoder.release()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

printPart1(part1());
await part2();
