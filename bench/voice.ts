/**
 * Voice turn latency and outbound pacing, over real UDP on loopback.
 *
 * Each call: a caller RTP peer speaks 600 ms (G.711 µ-law, paced at 20 ms), then goes silent;
 * the gateway's media stream + turn loop (real jitter buffer, energy VAD standing in for Silero,
 * endpointing, resampling, encoding, pacing) answers with instant "models". Reported:
 *   gateway share = first reply packet at the caller − last caller speech packet sent
 *                   − the configured endpointing silence − model time (0 here)
 * with its parts (jitter buffer depth, VAD window granularity, the 20 ms send tick), p50/p99,
 * for 1 and 20 concurrent calls; and the jitter of outbound packet spacing (|Δt − 20 ms|)
 * against a bare 20 ms setTimeout loop measured in the same run (the ratio is printed).
 * The machine is shared: figures move with its load.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { encodeG711 } from '../src/voice/audio/g711.ts';
import { systemVoiceClock } from '../src/voice/clock.ts';
import type { VadSession, VoiceInference } from '../src/voice/ports.ts';
import { decodeRtp, encodeRtp } from '../src/voice/rtp/packet.ts';
import { MediaStream } from '../src/voice/rtp/media-stream.ts';
import { bindRtpPorts } from '../src/voice/rtp/udp-port.ts';
import { CallSession } from '../src/voice/session/call-session.ts';

const SILENCE_MS = Number(process.env.BENCH_SILENCE_MS ?? 300);
const JITTER_FRAMES = Number(process.env.BENCH_JITTER_FRAMES ?? 3);
const TURNS = Number(process.env.BENCH_TURNS ?? 5);

const energyVad = (): VadSession => ({
  windowSamples: 256,
  probability: async (w) => {
    let s = 0;
    for (const x of w) s += x * x;
    return Math.sqrt(s / w.length) > 500 ? 0.95 : 0.02;
  },
  close: () => undefined,
});

const tts = new Int16Array(24_000 * 2).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)));
const instant: VoiceInference = {
  vad: async () => energyVad(),
  transcribe: async () => ({ value: 'hello', modelMs: 0 }),
  async *speak() {
    for (let i = 0; i < tts.length; i += 2400) yield tts.subarray(i, i + 2400); // 100 ms chunks
  },
  chat: async () => ({ value: 'hi', modelMs: 0 }),
};

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const fmt = (x: number) => x.toFixed(2).padStart(7);

async function call(results: { share: number[]; spacing: number[]; sendSpacing: number[] }): Promise<void> {
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  const sockets = await bindRtpPorts('127.0.0.1', { min: 42_000, max: 43_999 });
  let lastSend = 0;
  const media = new MediaStream({
    clock: systemVoiceClock,
    sockets,
    remote: { address: '127.0.0.1', port: peer.address().port },
    codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: 101 },
    jitter: { targetDepth: JITTER_FRAMES, maxDepth: 25 },
    sendSilence: false,
    onSend: (at) => {
      if (lastSend > 0 && at - lastSend < 25) results.sendSpacing.push(Math.abs(at - lastSend - 20));
      lastSend = at;
    },
  });
  const session = new CallSession({
    media,
    inference: instant,
    agent: { turn: async () => ({ value: { action: 'respond', reply: 'ok' }, modelMs: 0 }) },
    clock: systemVoiceClock,
    settings: { endpointing: { startThreshold: 0.5, endThreshold: 0.35, minSpeechMs: 64, silenceMs: SILENCE_MS }, prerollMs: 200, agentDeadlineMs: 5000, bargeIn: false, voice: 'tara' },
    call: { callId: 'bench', numberId: 'num', from: '+15550000000', to: '+15550000001', direction: 'inbound', instructions: null },
  });
  media.start();
  await session.start(null);

  let speechEnd = 0;
  let waiting = false;
  let prevArrival = 0;
  let replyResolve: (() => void) | undefined;
  peer.on('message', (msg) => {
    const at = performance.now();
    const p = decodeRtp(msg);
    if (p.marker && waiting) {
      waiting = false;
      results.share.push(at - speechEnd - SILENCE_MS);
      prevArrival = at;
      return;
    }
    if (prevArrival > 0 && !p.marker) results.spacing.push(Math.abs(at - prevArrival - 20));
    prevArrival = at;
    if (p.marker) prevArrival = at;
  });
  session.on('state', (s) => {
    if (s === 'listening' && replyResolve) replyResolve();
  });

  const frame = encodeG711('pcmu', new Int16Array(160).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000))));
  let seq = 1;
  let ts = 0;
  for (let turn = 0; turn < TURNS; turn++) {
    const start = performance.now();
    for (let i = 0; i < 30; i++) {
      peer.send(encodeRtp({ payloadType: 0, marker: i === 0, sequence: seq++, timestamp: (ts += 160), ssrc: 7, payload: frame }), sockets.port, '127.0.0.1');
      speechEnd = performance.now();
      const wait = start + (i + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    waiting = true;
    prevArrival = 0;
    // The 2 s reply plays out, then the session listens again.
    await new Promise<void>((r) => (replyResolve = r));
    replyResolve = undefined;
    ts += 160 * 150;
  }
  session.stop();
  media.close();
  peer.close();
}

async function baselineSpacing(ms: number): Promise<number[]> {
  const out: number[] = [];
  const start = performance.now();
  let n = 0;
  let last = start;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (n > 0) out.push(Math.abs(now - last - 20));
      last = now;
      n++;
      if (now - start > ms) return resolve();
      setTimeout(tick, start + n * 20 - performance.now());
    };
    setTimeout(tick, 20);
  });
  return out;
}

console.log(`bench:voice — endpointing silence ${SILENCE_MS} ms, jitter buffer ${JITTER_FRAMES} frames, ${TURNS} turns per call; shared machine, figures vary with its load`);
const base = await baselineSpacing(3000);
console.log(`baseline: bare 20 ms timer loop spacing jitter p50 ${fmt(pct(base, 50))} ms  p99 ${fmt(pct(base, 99))} ms`);
for (const calls of [1, 20]) {
  const results = { share: [] as number[], spacing: [] as number[], sendSpacing: [] as number[] };
  await Promise.all(Array.from({ length: calls }, () => call(results)));
  const floor = JITTER_FRAMES * 20;
  console.log(
    `${String(calls).padStart(2)} call(s): gateway share of turn latency p50 ${fmt(pct(results.share, 50))} ms  p99 ${fmt(pct(results.share, 99))} ms` +
      `  (of which jitter buffer ${floor} ms; VAD window + send tick add up to 52 ms)  n=${results.share.length}`,
  );
  console.log(
    `           outbound spacing jitter at the caller p50 ${fmt(pct(results.spacing, 50))} ms  p99 ${fmt(pct(results.spacing, 99))} ms` +
      `  at the sender p99 ${fmt(pct(results.sendSpacing, 99))} ms  (×${(pct(results.sendSpacing, 99) / Math.max(pct(base, 99), 0.001)).toFixed(2)} of the bare timer)`,
  );
}
