import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerMediaEngine } from '../../../src/voice/rtp/worker-media-engine.ts';
import type { CallMedia, StreamSettings } from '../../../src/voice/rtp/media-engine.ts';
import { until } from '../../helpers/wait.ts';
import { rtpPortsFree } from '../helpers/real-sip.ts';
import { RtpPeer } from '../helpers/rtp-peer.ts';

/*
 * The media worker with real UDP on loopback: ports bound in the worker thread, frames and
 * digits up to the caller's thread, playout progress, release of every port, and a worker that
 * dies taking its calls down (faults) but not the engine.
 */

const RANGE = { min: 47_100, max: 47_107 };
const engines: WorkerMediaEngine[] = [];
const peers: RtpPeer[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const p of peers.splice(0)) p.close();
});

function engine(drops?: Record<string, number>): WorkerMediaEngine {
  const e = new WorkerMediaEngine({ bindHost: '127.0.0.1', range: RANGE, onDropped: (kind, n = 1) => drops && (drops[kind] = (drops[kind] ?? 0) + n) });
  engines.push(e);
  return e;
}

async function call(e: WorkerMediaEngine, settings: Partial<StreamSettings> = {}): Promise<{ media: CallMedia; peer: RtpPeer }> {
  const peer = await RtpPeer.open();
  peers.push(peer);
  const ports = await e.allocate();
  const media = ports.stream({
    remote: { address: '127.0.0.1', port: peer.port },
    codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: 101 },
    hold: false,
    jitter: { minDelayMs: 10, maxDelayMs: 200, maxDepth: 25 },
    ...settings,
  });
  peer.sendTo('127.0.0.1', ports.port);
  return { media, peer };
}

describe('WorkerMediaEngine (RTP in a worker thread)', () => {
  it('sends queued audio, reports playout, and hands up caller audio and digits', async () => {
    const e = engine();
    const { media, peer } = await call(e);
    const frames: Int16Array[] = [];
    const digits: string[] = [];
    media.on('frame', (pcm) => frames.push(pcm));
    media.on('dtmf', (d) => digits.push(d.digit));
    media.start();
    media.play(new Int16Array(160 * 10).fill(3000));
    expect(media.queuedMs).toBe(200); // counted the moment it is queued, before the worker has it
    await new Promise<void>((resolve) => media.once('drained', resolve));
    expect(media.queuedMs).toBe(0);
    expect(media.playedSamples).toBe(1600);
    await until(() => peer.received.filter((p) => p.payload.some((b) => b !== 0xff)).length >= 10 || undefined, 3000, 'the audio at the peer');
    for (const f of peer.frames(new Int16Array(160 * 3).fill(2000))) peer.sendPacket(f);
    await peer.digit('7');
    await until(() => (digits.includes('7') && frames.length > 3) || undefined, 3000, 'caller audio and the digit');
    expect(frames.every((f) => f.length === 160)).toBe(true);
  });

  it('flush drops what was queued: queuedMs is 0 at once and the worker sends no more of it', async () => {
    const e = engine();
    const { media, peer } = await call(e);
    media.start();
    media.play(new Int16Array(160 * 100).fill(3000)); // 2 s
    await until(() => media.playedSamples > 0 || undefined, 3000, 'playout under way');
    const dropped = media.flush();
    expect(dropped).toBeGreaterThan(1000);
    expect(media.queuedMs).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const voiced = peer.received.filter((p) => p.payload.some((b) => b !== 0xff)).length;
    expect(voiced).toBeLessThan(60);
    expect(media.queuedMs).toBe(0);
  });

  it('every port pair goes back to the range: after streams close and after ports released unused', async () => {
    const e = engine();
    for (let round = 0; round < 3; round++) {
      const a = await call(e);
      const unused = await e.allocate();
      a.media.start();
      a.media.close();
      unused.release();
      await until(async () => (await rtpPortsFree(RANGE)) || undefined, 3000, 'ports free again');
    }
    // The range holds 4 pairs: all four can be had at once.
    const all = await Promise.all([1, 2, 3, 4].map(() => e.allocate()));
    expect(new Set(all.map((p) => p.port)).size).toBe(4);
    await expect(e.allocate()).rejects.toMatchObject({ code: 'RTP_PORTS', status: 503 });
    for (const p of all) p.release();
  });

  const ports = (media: CallMedia): number => media.localPort;

  it('counts malformed datagrams in batches', async () => {
    const drops: Record<string, number> = {};
    const e = engine(drops);
    const { media, peer } = await call(e);
    media.start();
    // In bursts the receive buffer holds (a burst of 500 can overflow it on a busy machine).
    for (let i = 0; i < 500; i++) {
      peer.socket.send(Buffer.from([0x00, 0x01, 0x02]), ports(media), '127.0.0.1');
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => (drops.rtp ?? 0) >= 500 || undefined, 3000, '500 drops counted');
    expect(drops.rtp).toBe(500);
  });

  it('a worker that dies faults its calls; the next call gets a new worker', async () => {
    const e = engine();
    const { media } = await call(e);
    media.start();
    const faults: Error[] = [];
    media.on('fault', (err) => faults.push(err));
    const thread = e.thread as Worker;
    await thread.terminate();
    await until(() => faults.length > 0 || undefined, 3000, 'the fault');
    expect(faults[0]?.message).toMatch(/media worker stopped/);
    const next = await call(e);
    next.media.start();
    next.media.play(new Int16Array(160 * 5).fill(3000));
    await until(() => next.peer.received.length >= 5 || undefined, 3000, 'audio from the new worker');
    expect(e.thread).not.toBe(thread);
  });

  it('keeps sending every 20 ms while the main thread is blocked', async () => {
    const e = engine();
    // The listener lives in its own thread, so it sees arrival times the blocked main thread cannot.
    const listener = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const s = require('node:dgram').createSocket('udp4');
       const at = [];
       s.on('message', () => at.push(performance.timeOrigin + performance.now()));
       s.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: s.address().port }));
       parentPort.on('message', () => { parentPort.postMessage({ at }); s.close(); });`,
      { eval: true },
    );
    const [{ port }] = (await once(listener, 'message')) as [{ port: number }];
    const ports = await e.allocate();
    const media = ports.stream({ remote: { address: '127.0.0.1', port }, codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: null }, hold: false, jitter: { minDelayMs: 10, maxDelayMs: 200, maxDepth: 25 } });
    media.start();
    await new Promise((r) => setTimeout(r, 200));
    const from = performance.timeOrigin + performance.now();
    while (performance.timeOrigin + performance.now() < from + 600); // the main thread does nothing else for 600 ms
    const to = performance.timeOrigin + performance.now();
    listener.postMessage('done');
    const [{ at }] = (await once(listener, 'message')) as [{ at: number[] }];
    await listener.terminate();
    // 30 packets are due in the block; a stream paced on the main thread would deliver none in it.
    const during = at.filter((t) => t > from + 100 && t < to).length;
    expect(during).toBeGreaterThanOrEqual(15);
    media.close();
  });

  it('a main thread that falls behind gets at most 1 s of caller frames queued; the rest are dropped and counted (overrun)', async () => {
    const drops: Record<string, number> = {};
    const e = engine(drops);
    const ports = await e.allocate();
    const media = ports.stream({ remote: { address: '127.0.0.1', port: 9 }, codec: { law: 'pcmu', payloadType: 0, dtmfPayloadType: null }, hold: false, jitter: { minDelayMs: 10, maxDelayMs: 200, maxDepth: 25 } });
    let frames = 0;
    media.on('frame', () => frames++);
    media.start();
    // A sender in its own thread: 150 packets (3 s of audio) as fast as it can, while this thread is busy.
    const sender = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const s = require('node:dgram').createSocket('udp4');
       let n = 0;
       const next = () => {
         if (n === 150) return parentPort.postMessage('sent');
         const b = Buffer.alloc(172); b[0] = 0x80; b[1] = 0; b.writeUInt16BE(n, 2); b.writeUInt32BE(n * 160, 4); b.writeUInt32BE(7, 8); b.fill(0x55, 12);
         n++;
         s.send(b, workerData.port, '127.0.0.1', () => setTimeout(next, 2));
       };
       next();`,
      { eval: true, workerData: { port: ports.port } },
    );
    const sent = once(sender, 'message');
    const from = performance.now();
    while (performance.now() < from + 1500); // this thread takes nothing for 1.5 s
    await sent;
    await sender.terminate();
    await until(() => (drops.overrun ?? 0) > 0 || undefined, 3000, 'overrun counted');
    // What had queued for this thread was at most 50 frames, whatever the sender did.
    const queued = frames;
    expect(queued).toBeLessThanOrEqual(50 + 5);
    // Taking frames again gives credit back: frames flow again.
    await until(() => frames > queued + 10 || undefined, 3000, 'frames flowing again');
    media.close();
  });

  it('hands up at most 10 digits a second per call; a flood of telephone-events is dropped and counted', async () => {
    const drops: Record<string, number> = {};
    const e = engine(drops);
    const { media, peer } = await call(e);
    const digits: string[] = [];
    media.on('dtmf', (d) => digits.push(d.digit));
    media.start();
    // 60 complete digits, each one end packet with a timestamp of its own, sent at once.
    for (let i = 0; i < 60; i++) peer.sendPacket({ payloadType: 101, timestamp: 1000 + i * 800, sequence: i, payload: Uint8Array.from([i % 10, 0x8a, 0x03, 0x20]) });
    await until(() => (drops.dtmf ?? 0) >= 50 || undefined, 3000, 'the flood counted');
    expect(digits.length).toBeLessThanOrEqual(10);
    expect(digits.length).toBeGreaterThan(0);
  });
});
