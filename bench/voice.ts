/**
 * Voice turn latency and outbound pacing, over real UDP on loopback.
 *
 * Each call: a caller RTP peer speaks 600 ms (G.711 µ-law, paced at 20 ms), then goes silent;
 * the gateway's media stream + turn loop (real adaptive jitter buffer, energy VAD standing in for
 * Silero on the same 256-sample windows, endpointing, resampling, encoding, pacing) answers with
 * instant "models". Reported:
 *   gateway share = first reply packet at the caller − last caller speech packet sent
 *                   − the configured endpointing silence − model time (0 here)
 * p50/p99 for 1 and 20 concurrent calls, with the jitter buffer's adaptive delay (the caller
 * stops sending after speaking, so the silence frames come at its deadlines); and the jitter of
 * outbound packet spacing (|Δt − 20 ms|) against a bare 20 ms setTimeout loop on absolute
 * deadlines measured in the same run (the ratio is printed).
 * Outbound spacing jitter and long-run rate error are measured at the caller over the whole call
 * (silence frames included, as in production), for 1, 5 and 20 concurrent calls.
 * `npm run bench:voice -- --sip` adds the same calls through a real drachtio-server from sipp
 * (bench/voice-sip.ts), with call setup time, beside these loopback-port figures.
 * The machine is shared: figures move with its load.
 */
import { monotonicClock } from '../src/clock/index.ts';
import type { VadSession, VoiceInference } from '../src/voice/ports.ts';
import { parseArgs } from 'node:util';
import { WorkerMediaEngine } from '../src/voice/rtp/worker-media-engine.ts';
import { CallSession } from '../src/voice/session/call-session.ts';
import { CallerThread } from './voice-callers.ts';
import { addFigures, CallerStats, pct, worst, type MediaFigures } from './voice-media-stats.ts';
import { runSipCalls, sipUnavailable } from './voice-sip.ts';

const SILENCE_MS = Number(process.env.BENCH_SILENCE_MS ?? 300);
const MIN_DELAY_MS = Number(process.env.BENCH_JITTER_MIN_MS ?? 10);
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

const fmt = (x: number) => x.toFixed(2).padStart(7);
const fmtPct = (x: number) => `${(x * 100).toFixed(3)} %`;

interface Results extends MediaFigures {
  /** Parts of the share: endpoint decision − speech end − silence; decision → first reply audio queued; queued → at the caller. */
  endpoint: number[];
  turn: number[];
  wire: number[];
}

async function call(results: Results, callers: CallerThread): Promise<void> {
  const ports = await engine.allocate();
  const caller = await callers.open({ address: '127.0.0.1', port: ports.port });
  const media = ports.stream({
    remote: { address: '127.0.0.1', port: caller.port },
    codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: 101 },
    hold: false,
    jitter: { minDelayMs: MIN_DELAY_MS, maxDelayMs: 200, maxDepth: 25 },
  });
  const session = new CallSession({
    media,
    inference: instant,
    agent: { turn: async () => ({ value: { action: 'respond', reply: 'ok' }, modelMs: 0 }) },
    clock: monotonicClock,
    settings: { endpointing: { startThreshold: 0.5, endThreshold: 0.35, minSpeechMs: 64, silenceMs: SILENCE_MS }, prerollMs: 200, agentDeadlineMs: 5000, bargeIn: false, voice: 'tara' },
    call: { callId: 'bench', numberId: 'num', from: '+15550000000', to: '+15550000001', direction: 'inbound', instructions: null },
  });
  media.start();
  await session.start(null);
  for (let turn = 0; turn < TURNS; turn++) {
    // 600 ms of speech from the caller, then the whole 2 s reply.
    const { speechEnd, replyAt } = await caller.turn();
    results.share.push(replyAt - speechEnd - SILENCE_MS);
    const t = session.turns[session.turns.length - 1]?.timings;
    if (t?.firstAudioAt != null) {
      results.endpoint.push(t.endpointAt - speechEnd - SILENCE_MS);
      results.turn.push(t.firstAudioAt - t.endpointAt);
      results.wire.push(replyAt - t.firstAudioAt);
    }
  }
  // Let the last packets arrive, then read the whole call.
  await new Promise((r) => setTimeout(r, 100));
  addFigures(results, await caller.close());
  session.stop();
  media.close();
}

const { values: args } = parseArgs({ options: { sip: { type: 'boolean' }, calls: { type: 'string' } } });
const COUNTS = (args.calls ?? '1,5,20').split(',').map(Number);

function mediaLine(label: string, f: MediaFigures, jitterTarget: number): string {
  return (
    `${label} outbound spacing jitter at the caller p50 ${fmt(pct(f.spacing, 50))} ms  p99 ${fmt(pct(f.spacing, 99))} ms (target < ${jitterTarget})` +
    `  rate error worst ${fmtPct(worst(f.rateError))}  RTP clock vs wall worst ${fmtPct(worst(f.clockError))} (target ±0.5 %)`
  );
}

console.log(`bench:voice — endpointing silence ${SILENCE_MS} ms, adaptive jitter buffer (floor ${MIN_DELAY_MS} ms), ${TURNS} turns per call; shared machine, figures vary with its load`);
// Media runs in the gateway's media worker; the callers listen in a thread of their own.
const engine = new WorkerMediaEngine({ bindHost: '127.0.0.1', range: { min: 42_000, max: 43_999 }, threadNice: -10 });
engine.warm();
const callers = new CallerThread();
// Both threads started (and their sources compiled) before anything is measured.
(await engine.allocate()).release();
await callers.baseline(500);
const base = await callers.baseline(3000);
console.log(`baseline: bare 20 ms timer loop in an idle thread, spacing jitter p50 ${fmt(pct(base, 50))} ms  p99 ${fmt(pct(base, 99))} ms`);
for (const calls of COUNTS) {
  const results: Results = { ...CallerStats.empty(), endpoint: [], turn: [], wire: [] };
  await Promise.all(Array.from({ length: calls }, () => call(results, callers)));
  console.log(
    `${String(calls).padStart(2)} call(s), loopback port: gateway share of turn latency p50 ${fmt(pct(results.share, 50))} ms  p99 ${fmt(pct(results.share, 99))} ms` +
      `  (target p99 < 50)  n=${results.share.length}`,
  );
  console.log(
    `           of which endpointing p50 ${fmt(pct(results.endpoint, 50))} p99 ${fmt(pct(results.endpoint, 99))}` +
      `  turn → first audio p50 ${fmt(pct(results.turn, 50))} p99 ${fmt(pct(results.turn, 99))}` +
      `  send → caller p50 ${fmt(pct(results.wire, 50))} p99 ${fmt(pct(results.wire, 99))} ms`,
  );
  console.log(
    mediaLine('          ', results, calls === 1 ? 2 : 5) +
      `  (×${(pct(results.spacing, 99) / Math.max(pct(base, 99), 0.001)).toFixed(2)} of the bare timer)`,
  );
}

if (args.sip) {
  const missing = sipUnavailable();
  if (missing) {
    console.log(`--sip: needs ${missing}`);
    process.exitCode = 1;
  } else {
    const sipTurns = Math.max(2, Math.min(TURNS, 3));
    console.log(`--sip: sipp callers through drachtio-server, webhook agent on loopback, ${sipTurns} turns per call`);
    for (const calls of COUNTS) {
      const f = await runSipCalls(calls, sipTurns, SILENCE_MS, instant);
      console.log(
        `${String(calls).padStart(2)} call(s), real SIP:      call setup INVITE → 200 p50 ${fmt(pct(f.setupMs, 50))} ms  p99 ${fmt(pct(f.setupMs, 99))} ms` +
          `  gateway share of turn latency p50 ${fmt(pct(f.share, 50))} ms  p99 ${fmt(pct(f.share, 99))} ms (target p99 < 50)  n=${f.share.length}${f.failed ? `  FAILED calls ${f.failed}` : ''}`,
      );
      console.log(mediaLine('          ', f, calls === 1 ? 2 : 5));
    }
  }
}
await callers.stop();
await engine.close();
