/*
 * Prepared GPU benchmark for a phone turn, voice to voice (run on a machine with an NVIDIA GPU
 * and onnxruntime-node's CUDA provider installed:
 *   ONNXRUNTIME_NODE_INSTALL=1 node node_modules/onnxruntime-node/script/install).
 *
 * The same turn as `npm run bench:voice`, with real models in place of the instant ones:
 * random-weight Whisper with large-v3-turbo's exact dimensions (fp16 on CUDA) through the
 * gateway's WhisperService, and a random-weight Orpheus-3B-sized LM + SNAC-interface decoder
 * through its TtsService (decode-loop thread + SNAC windows on the inference pool). A caller RTP
 * peer on loopback speaks 1 s of G.711, stops, and waits for the first packet of the reply; the
 * agent answers at once (a webhook that costs nothing), so the figure is the gateway plus STT
 * plus TTS time to first audio:
 *   voice-to-voice = first reply RTP packet at the caller − end of the caller's speech
 * reported with and without the endpointing silence (a configured wait), and split into
 * endpointing, STT, TTS first chunk and the rest, p50/p99 for 1 and N concurrent calls.
 * Random weights would decode up to 224 tokens at each of six fallback temperatures, so the
 * Whisper export is written with max_target_positions = 2 × --stt-tokens (the decoder then
 * stops at that many new tokens, a short utterance's transcript) and decoded at one fixed
 * temperature in English (no fallback, no language detection); random weights may still stop
 * sooner. The tiny models' frame-position bias keeps Orpheus emitting audio tokens. Whisper's
 * fixed-step timing on long audio is bench/gpu/whisper-gpu.ts.
 *
 * Anchors: 500–800 ms voice to voice for Pipecat/Vapi-class systems; AgentPhone aims under 500 ms.
 *
 *   npx tsx bench/gpu/voice-gpu.ts                           # CUDA, turbo + 3B-sized, 1 and 4 calls
 *   npx tsx bench/gpu/voice-gpu.ts --tiny --provider cpu     # CPU dry run on tiny models
 * Options: --calls 1,4  --turns 5  --silence-ms 300  --frames 40 (Orpheus frames per reply, 85 ms each)
 *          --stt-tokens 24 (Whisper tokens per transcript, at most)
 *          --dir DIR (keeps the generated models between runs)  --device 0  --silero (Silero VAD;
 *          the default energy VAD isolates model time, as bench:voice does)
 *          --stt-dir DIR --lm-dir DIR --lm-dtype fp16 --snac-dir DIR (real weights: directories
 *          `agentphone models pull` filled; random weights of the real sizes otherwise)
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { validateConfig } from '../../src/config/index.ts';
import { WHISPER_DIMS, writeWhisperModel } from '../../src/inference/generator/index.ts';
import { createInference, findVoice, WhisperService } from '../../src/inference/index.ts';
import { decoderOnlyFile } from '../../src/inference/runners/llm/index.ts';
import { ORPHEUS_3B_DIMS, ORPHEUS_TEST_DIMS, TtsService, writeOrpheusTestModel, writeSnacTestModel } from '../../src/inference/runners/tts/index.ts';
import { decoderFile } from '../../src/inference/runners/whisper/model-files.ts';
import type { ModelDtype } from '../../src/inference/types.ts';
import { createLogger } from '../../src/logging/index.ts';
import { encodeG711 } from '../../src/voice/audio/g711.ts';
import { monotonicClock } from '../../src/clock/index.ts';
import { createVoiceInference } from '../../src/voice/inference-adapter.ts';
import type { VadSession, VoiceInference } from '../../src/voice/ports.ts';
import { decodeRtp, encodeRtp } from '../../src/voice/rtp/packet.ts';
import { DEFAULT_JITTER, MediaStream } from '../../src/voice/rtp/media-stream.ts';
import { bindRtpPorts } from '../../src/voice/rtp/udp-port.ts';
import { modelDir } from './weights.ts';
import { CallSession } from '../../src/voice/session/call-session.ts';

const { values: args } = parseArgs({
  options: {
    tiny: { type: 'boolean', default: false },
    provider: { type: 'string', default: 'cuda' },
    device: { type: 'string', default: '0' },
    calls: { type: 'string', default: '1,4' },
    turns: { type: 'string', default: '5' },
    'silence-ms': { type: 'string', default: '300' },
    frames: { type: 'string', default: '40' },
    'stt-tokens': { type: 'string', default: '24' },
    silero: { type: 'boolean', default: false },
    dir: { type: 'string' },
    'stt-dir': { type: 'string' },
    'lm-dir': { type: 'string' },
    'lm-dtype': { type: 'string' },
    'snac-dir': { type: 'string' },
  },
});

const provider = args.provider === 'cpu' ? 'cpu' : 'cuda';
const dtype = provider === 'cuda' ? 'fp16' : 'fp32';
const SILENCE_MS = Number(args['silence-ms']);
const TURNS = Number(args.turns);
const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'agentphone-gpu-voice-'));
const size = args.tiny ? 'tiny' : 'full';
const sttTokens = Number(args['stt-tokens']);
const sttGenerated = join(dir, `whisper-${args.tiny ? 'test-v3' : 'large-v3-turbo'}-${dtype}-${sttTokens}`);
const lmGenerated = join(dir, `orpheus-${size}`);
const snacGenerated = join(dir, `snac-${size}`);
const sttDir = modelDir('whisper', args['stt-dir'], sttGenerated, decoderFile(dtype), () => {
  const dims = { ...WHISPER_DIMS[args.tiny ? 'test-v3' : 'large-v3-turbo'], maxTargetPositions: 2 * sttTokens };
  writeWhisperModel(sttGenerated, { dims, dtype, testMarker: true });
});
const lmDtype = args['lm-dtype'] ?? 'fp32';
const lmDir = modelDir('orpheus LM', args['lm-dir'], lmGenerated, decoderOnlyFile(lmDtype as ModelDtype), () =>
  writeOrpheusTestModel(lmGenerated, 21, args.tiny ? ORPHEUS_TEST_DIMS : ORPHEUS_3B_DIMS),
);
const snacDir = modelDir('snac', args['snac-dir'], snacGenerated, join('onnx', 'decoder_model.onnx'), () => writeSnacTestModel(snacGenerated, 31, args.tiny ? 8 : 512));

const config = validateConfig({
  dataDir: dir,
  log: { level: 'info' },
  inference: {
    workers: 2,
    session: { provider, deviceId: Number(args.device) },
    models: [
      { name: 'whisper-stt', family: 'whisper', repo: 'local', dir: sttDir, ...(dtype === 'fp16' && { dtype }) },
      { name: 'orpheus-3b', family: 'orpheus', repo: 'local', dir: lmDir, dtype: lmDtype },
      { name: 'snac-24khz', family: 'snac', repo: 'local', dir: snacDir },
    ],
  },
  speech: { maxAudioTokens: Number(args.frames) * 7 },
});
const logger = createLogger({ level: 'info' });
const inference = createInference(config, logger, new Registry());
const whisper = new WhisperService(inference);
const tts = new TtsService(inference, config.speech, 16);
const bound = await createVoiceInference({
  async transcribe(pcm16k, signal) {
    return (await whisper.transcribe(pcm16k, { model: 'whisper-stt', language: 'en', temperature: 0.2, signal })).text.trim();
  },
  speak(text, voiceId, signal) {
    const voice = findVoice(voiceId);
    if (!voice) throw new Error(`unknown voice ${voiceId}`);
    return tts.synthesize(text, voice, signal);
  },
  chat: async () => 'unused',
});

/** The energy detector bench:voice uses, on the same 256-sample windows as Silero. */
const energyVad = (): VadSession => ({
  windowSamples: 256,
  probability: async (w) => Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length) > 500 ? 0.95 : 0.02,
  close: () => undefined,
});
// Random-weight Whisper may transcribe noise as nothing; the turn must still reach the agent.
const voiceInference: VoiceInference = {
  ...bound,
  vad: args.silero ? bound.vad : async () => energyVad(),
  transcribe: async (pcm, signal) => {
    const r = await bound.transcribe(pcm, signal);
    return { value: r.value || '(noise)', modelMs: r.modelMs };
  },
};

interface Results {
  total: number[];
  endpoint: number[];
  stt: number[];
  tts: number[];
  rest: number[];
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const fmt = (x: number) => x.toFixed(0).padStart(5);

async function call(results: Results): Promise<void> {
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  const sockets = await bindRtpPorts('127.0.0.1', { min: 45_000, max: 46_999 });
  const media = new MediaStream({ clock: monotonicClock, sockets, remote: { address: '127.0.0.1', port: peer.address().port }, codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: 101 }, jitter: DEFAULT_JITTER, sendSilence: false });
  const session = new CallSession({
    media,
    inference: voiceInference,
    agent: { turn: async () => ({ value: { action: 'respond', reply: 'Sure, I can help with that booking.' }, modelMs: 0 }) },
    clock: monotonicClock,
    settings: { endpointing: { startThreshold: 0.5, endThreshold: 0.35, minSpeechMs: 64, silenceMs: SILENCE_MS }, prerollMs: 200, agentDeadlineMs: 60_000, bargeIn: false, voice: 'tara' },
    call: { callId: 'bench', numberId: 'num', from: '+15550000000', to: '+15550000001', direction: 'inbound', instructions: null },
  });
  media.start();
  await session.start(null);
  let speechEnd = 0;
  let waiting = false;
  let done: (() => void) | undefined;
  peer.on('message', (msg) => {
    if (!decodeRtp(msg).marker || !waiting) return;
    waiting = false;
    const at = performance.now();
    const t = session.turns[session.turns.length - 1]?.timings;
    results.total.push(at - speechEnd);
    if (t) {
      results.endpoint.push(t.endpointAt - speechEnd);
      results.stt.push(t.sttMs);
      results.tts.push(t.ttsFirstChunkMs ?? NaN);
      results.rest.push(at - speechEnd - (t.endpointAt - speechEnd) - t.sttMs - (t.ttsFirstChunkMs ?? 0));
    }
  });
  session.on('state', (s) => s === 'listening' && done?.());
  const frame = encodeG711('pcmu', new Int16Array(160).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000) * (1 + 0.5 * Math.sin(i / 9)))));
  let seq = 1;
  let ts = 0;
  for (let turn = 0; turn < TURNS; turn++) {
    const start = performance.now();
    for (let i = 0; i < 50; i++) {
      peer.send(encodeRtp({ payloadType: 0, marker: i === 0, sequence: seq++, timestamp: (ts += 160), ssrc: 7, payload: frame }), sockets.port, '127.0.0.1');
      speechEnd = performance.now();
      const wait = start + (i + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    waiting = true;
    await new Promise<void>((r) => (done = r));
    done = undefined;
    ts += Math.round((performance.now() - speechEnd) * 8);
  }
  session.stop();
  media.close();
  peer.close();
}

try {
  console.log('warm-up (sessions, CUDA kernels) ...');
  await call({ total: [], endpoint: [], stt: [], tts: [], rest: [] });
  console.log(
    `voice to voice, ${args['stt-dir'] || args['lm-dir'] ? `weights: Whisper ${args['stt-dir'] ? 'real' : 'random'}, Orpheus ${args['lm-dir'] ? 'real' : 'random'}` : `${args.tiny ? 'tiny' : 'large-v3-turbo + Orpheus-3B-sized'} random weights`}, ${provider} ${dtype}, endpointing silence ${SILENCE_MS} ms, ${TURNS} turns a call` +
      ` (anchors: Pipecat/Vapi-class 500–800 ms; AgentPhone aims < 500 ms):`,
  );
  for (const calls of args.calls.split(',').map(Number)) {
    const r: Results = { total: [], endpoint: [], stt: [], tts: [], rest: [] };
    await Promise.all(Array.from({ length: calls }, () => call(r)));
    const noSilence = r.total.map((x) => x - SILENCE_MS);
    console.log(
      `  ${String(calls).padStart(2)} call(s): p50 ${fmt(pct(r.total, 50))} ms  p99 ${fmt(pct(r.total, 99))} ms` +
        `  (without the silence wait p50 ${fmt(pct(noSilence, 50))} p99 ${fmt(pct(noSilence, 99))})  n=${r.total.length}`,
    );
    console.log(
      `           endpointing p50 ${fmt(pct(r.endpoint, 50))}  STT p50 ${fmt(pct(r.stt, 50))} p99 ${fmt(pct(r.stt, 99))}` +
        `  TTS first chunk p50 ${fmt(pct(r.tts, 50))} p99 ${fmt(pct(r.tts, 99))}  rest (agent, resample, send) p50 ${fmt(pct(r.rest, 50))} ms`,
    );
  }
} finally {
  await bound.close();
  await tts.close();
  await inference.close();
  if (!args.dir) rmSync(dir, { recursive: true, force: true });
}
