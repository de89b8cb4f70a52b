/**
 * The voice benchmark's callers, in a thread of their own: each a phone's RTP socket that speaks
 * and listens. Arrival times are read here, on an event loop the gateway does not share, so the
 * spacing measured is the gateway's, not the delay of the thread that happens to host the bench.
 * Driven by CallerThread (voice-callers.ts).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parentPort } from 'node:worker_threads';
import { encodeG711 } from '../src/voice/audio/g711.ts';
import { decodeRtp, encodeRtp, isRtcp } from '../src/voice/rtp/packet.ts';
import { setThreadNice } from '../src/voice/rtp/thread-priority.ts';
import { runPeer } from '../test/helpers/sip-peers.ts';
import { CallerStats } from './voice-media-stats.ts';
import type { CallerReply, CallerRequest } from './voice-callers.ts';

const SPEECH = encodeG711('pcmu', new Int16Array(160).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000))));
const now = (): number => performance.timeOrigin + performance.now();

class Caller {
  readonly stats = new CallerStats();
  target: { address: string; port: number } | undefined;
  private seq = 1;
  private ts = 0;
  private replyStarted: ((at: number) => void) | undefined;
  private replyEnded: (() => void) | undefined;
  private voiced = 0;
  private targetKnown: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      if (!this.target) {
        this.target = { address: rinfo.address, port: rinfo.port };
        this.targetKnown?.();
      }
      if (isRtcp(msg)) return;
      const at = now();
      const p = decodeRtp(msg);
      this.stats.onPacket(p, at);
      const voiced = p.payload.some((b) => b !== 0xff && b !== 0x7f);
      if (voiced) this.voiced++;
      if (p.marker && this.replyStarted) {
        this.replyStarted(at);
        this.replyStarted = undefined;
      }
      if (!voiced && this.voiced > 0 && this.replyEnded) {
        this.voiced = 0;
        this.replyEnded();
        this.replyEnded = undefined;
      }
    });
  }

  /** One turn: 600 ms of speech paced at 20 ms, then the wait for the whole reply. */
  async turn(): Promise<{ speechEnd: number; replyAt: number }> {
    if (!this.target) await new Promise<void>((resolve) => (this.targetKnown = resolve));
    const target = this.target as { address: string; port: number };
    const start = now();
    let speechEnd = 0;
    for (let i = 0; i < 30; i++) {
      this.socket.send(encodeRtp({ payloadType: 0, marker: i === 0, sequence: this.seq++, timestamp: (this.ts += 160), ssrc: 7, payload: SPEECH }), target.port, target.address);
      speechEnd = now();
      const wait = start + (i + 1) * 20 - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    this.ts += 160 * 200;
    this.voiced = 0;
    const replyAt = await new Promise<number>((resolve) => (this.replyStarted = resolve));
    await new Promise<void>((resolve) => (this.replyEnded = resolve));
    return { speechEnd, replyAt };
  }
}

/** A bare 20 ms timer loop on absolute deadlines in this thread: the spacing a timer alone gets. */
async function baseline(ms: number): Promise<number[]> {
  const out: number[] = [];
  const start = now();
  let n = 0;
  let last = start;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      if (n > 0) out.push(Math.abs(t - last - 20));
      last = t;
      n++;
      if (t - start > ms) return resolve();
      setTimeout(tick, start + n * 20 - now());
    };
    setTimeout(tick, 20);
  });
  return out;
}

async function openSocket(): Promise<Socket> {
  for (;;) {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    if (s.address().port % 2 === 0) return s;
    s.close();
  }
}

// The instrument runs at the priority the gateway gives its media thread (voice.mediaThreadNice).
try {
  setThreadNice(-10);
} catch {
  // not root: measured at normal priority
}

const port = parentPort;
if (!port) throw new Error('voice-caller-thread.ts runs as a worker thread');
const callers = new Map<number, Caller>();
const reply = (r: CallerReply): void => port.postMessage(r);

port.on('message', (m: CallerRequest) => {
  void (async () => {
    switch (m.t) {
      case 'open': {
        const c = new Caller(await openSocket());
        if (m.target) c.target = m.target;
        callers.set(m.id, c);
        reply({ t: 'opened', id: m.id, port: c.socket.address().port });
        return;
      }
      case 'turn': {
        const r = await (callers.get(m.id) as Caller).turn();
        reply({ t: 'turned', id: m.id, ...r });
        return;
      }
      case 'close': {
        const c = callers.get(m.id) as Caller;
        callers.delete(m.id);
        c.socket.close();
        const figures = CallerStats.empty();
        c.stats.addTo(figures);
        reply({ t: 'closed', id: m.id, figures });
        return;
      }
      case 'run': {
        const r = await runPeer(m.command, m.args, { cwd: m.cwd, timeoutMs: m.timeoutMs }).catch(() => ({ code: null }));
        reply({ t: 'ran', id: m.id, code: r.code });
        return;
      }
      case 'baseline':
        reply({ t: 'baseline', id: m.id, spacing: await baseline(m.ms) });
        return;
    }
  })();
});
