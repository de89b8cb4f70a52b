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
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { encodeG711 } from '../src/voice/audio/g711.ts';
import { monotonicClock } from '../src/clock/index.ts';
import type { VadSession, VoiceInference } from '../src/voice/ports.ts';
import { decodeRtp, encodeRtp } from '../src/voice/rtp/packet.ts';
import { parseArgs } from 'node:util';
import { MediaStream } from '../src/voice/rtp/media-stream.ts';
import { bindRtpPorts } from '../src/voice/rtp/udp-port.ts';
import { CallSession } from '../src/voice/session/call-session.ts';
import { CallerStats, pct, worst, type MediaFigures } from './voice-media-stats.ts';
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
  delayMs: number[];
  catchUps: number;
  skipped: number;
  packets: number;
}

async function call(results: Results): Promise<void> {
  const peer = createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  const sockets = await bindRtpPorts('127.0.0.1', { min: 42_000, max: 43_999 });
  const media = new MediaStream({
    clock: monotonicClock,
    sockets,
    remote: { address: '127.0.0.1', port: peer.address().port },
    codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: 101 },
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

  const stats = new CallerStats();
  let speechEnd = 0;
  let waiting = false;
  let replyResolve: (() => void) | undefined;
  peer.on('message', (msg) => {
    const at = performance.now();
    const p = decodeRtp(msg);
    stats.onPacket(p, at);
    if (p.marker && waiting) {
      waiting = false;
      results.share.push(at - speechEnd - SILENCE_MS);
      const t = session.turns[session.turns.length - 1]?.timings;
      if (t?.firstAudioAt != null) {
        results.endpoint.push(t.endpointAt - speechEnd - SILENCE_MS);
        results.turn.push(t.firstAudioAt - t.endpointAt);
        results.wire.push(at - t.firstAudioAt);
      }
    }
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
    // The 2 s reply plays out, then the session listens again.
    await new Promise<void>((r) => (replyResolve = r));
    replyResolve = undefined;
    ts += 160 * 150;
  }
  // Let the last packets arrive, then read the whole call.
  await new Promise((r) => setTimeout(r, 100));
  stats.addTo(results);
  results.delayMs.push(media.jitterDelayMs);
  results.catchUps += media.pacerCatchUps;
  results.skipped += media.pacerSkipped;
  results.packets += media.sentPackets;
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


const { values: args } = parseArgs({ options: { sip: { type: 'boolean' }, calls: { type: 'string' } } });
const COUNTS = (args.calls ?? '1,5,20').split(',').map(Number);

function mediaLine(label: string, f: MediaFigures, jitterTarget: number): string {
  return (
    `${label} outbound spacing jitter at the caller p50 ${fmt(pct(f.spacing, 50))} ms  p99 ${fmt(pct(f.spacing, 99))} ms (target < ${jitterTarget})` +
    `  rate error worst ${fmtPct(worst(f.rateError))}  RTP clock vs wall worst ${fmtPct(worst(f.clockError))} (target ±0.5 %)`
  );
}

console.log(`bench:voice — endpointing silence ${SILENCE_MS} ms, adaptive jitter buffer (floor ${MIN_DELAY_MS} ms), ${TURNS} turns per call; shared machine, figures vary with its load`);
const base = await baselineSpacing(3000);
console.log(`baseline: bare 20 ms timer loop spacing jitter p50 ${fmt(pct(base, 50))} ms  p99 ${fmt(pct(base, 99))} ms`);
for (const calls of COUNTS) {
  const results: Results = { ...CallerStats.empty(), endpoint: [], turn: [], wire: [], delayMs: [], catchUps: 0, skipped: 0, packets: 0 };
  await Promise.all(Array.from({ length: calls }, () => call(results)));
  console.log(
    `${String(calls).padStart(2)} call(s), loopback port: gateway share of turn latency p50 ${fmt(pct(results.share, 50))} ms  p99 ${fmt(pct(results.share, 99))} ms` +
      `  (target p99 < 50; jitter buffer delay settled at ${fmt(pct(results.delayMs, 50))} ms)  n=${results.share.length}`,
  );
  console.log(
    `           of which endpointing p50 ${fmt(pct(results.endpoint, 50))} p99 ${fmt(pct(results.endpoint, 99))}` +
      `  turn → first audio p50 ${fmt(pct(results.turn, 50))} p99 ${fmt(pct(results.turn, 99))}` +
      `  send → caller p50 ${fmt(pct(results.wire, 50))} p99 ${fmt(pct(results.wire, 99))} ms`,
  );
  console.log(
    mediaLine('          ', results, calls === 1 ? 2 : 5) +
      `  (×${(pct(results.spacing, 99) / Math.max(pct(base, 99), 0.001)).toFixed(2)} of the bare timer; late-timer catch-ups ${results.catchUps}, skipped ${results.skipped} of ${results.packets} packets)`,
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
