/**
 * The media worker thread: every call's RTP/RTCP sockets, jitter buffer, G.711 coding and 20 ms
 * send pacing run here, on an event loop that nothing else uses, so the turn loop, webhooks and
 * HTTP on the main thread never delay a packet. The main thread drives it through
 * WorkerMediaEngine; see media-protocol.ts for the messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { monotonicClock } from '../../clock/index.ts';
import { AgentPhoneError } from '../../errors/index.ts';
import { allocateInline, type InlinePorts, type StreamSettings } from './media-engine.ts';
import type { FromMediaWorker, MediaWorkerData, Playout, ToMediaWorker } from './media-protocol.ts';
import { setThreadNice } from './thread-priority.ts';
import { FRAME_SAMPLES, type DroppedKind, type MediaStream } from './media-stream.ts';

/** How often drop counts go up to the main thread (a flood of junk must not become a flood of messages). */
const DROP_REPORT_MS = 200;
/**
 * Caller frames sent up and not yet taken by the main thread, at most (1 s of audio). Past it
 * frames are dropped and counted ('overrun'): a datagram flood can make the jitter buffer hand
 * out frames faster than the turn loop takes them, and the messages must not pile up unbounded.
 */
const MAX_UNACKED = 50;
/** Digits handed up per call per second, at most: a person keys a few; each digit starts a turn. */
const MAX_DIGITS_PER_S = 10;

interface Call {
  ports: InlinePorts;
  media?: MediaStream;
  accepted: number;
  epoch: number;
  unacked: number;
  /** Start of the current second of digits, and how many went up in it. */
  digitWindow: { at: number; n: number };
}

const port = parentPort;
if (!port) throw new Error('media-worker.ts runs as a worker thread');
const data = workerData as MediaWorkerData;
const calls = new Map<number, Call>();
const drops: Partial<Record<DroppedKind, number>> = {};
let dropTimer: ReturnType<typeof setTimeout> | undefined;

function post(msg: FromMediaWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(msg, transfer);
}

function onDropped(kind: DroppedKind): void {
  drops[kind] = (drops[kind] ?? 0) + 1;
  if (dropTimer) return;
  dropTimer = setTimeout(() => {
    dropTimer = undefined;
    post({ t: 'dropped', counts: { ...drops } });
    for (const k of Object.keys(drops) as DroppedKind[]) delete drops[k];
  }, DROP_REPORT_MS);
}

function playout(call: Call, media: MediaStream): Playout {
  return { played: media.playedSamples, queued: media.queuedMs / 20, accepted: call.accepted, epoch: call.epoch };
}

function openStream(id: number, call: Call, settings: StreamSettings): void {
  const media = call.ports.stream(settings);
  call.media = media;
  // Caller frames and digits go up on credit (see MAX_UNACKED); RTCP reports stay here (nothing
  // on the main thread reads them; the stream's receiver statistics do).
  const credit = (): boolean => {
    if (call.unacked >= MAX_UNACKED) {
      onDropped('overrun');
      return false;
    }
    call.unacked++;
    return true;
  };
  media.on('frame', (pcm) => {
    if (credit()) post({ t: 'frame', id, pcm, playout: playout(call, media) }, [pcm.buffer as ArrayBuffer]);
  });
  media.on('drained', () => post({ t: 'drained', id, playout: playout(call, media) }));
  media.on('dtmf', (event) => {
    const w = call.digitWindow;
    const now = monotonicClock.now();
    if (now - w.at >= 1000) call.digitWindow = { at: now, n: 0 };
    if (call.digitWindow.n >= MAX_DIGITS_PER_S) {
      onDropped('dtmf');
      return;
    }
    call.digitWindow.n++;
    if (credit()) post({ t: 'dtmf', id, event });
  });
  media.on('fault', (err) => {
    calls.delete(id);
    post({ t: 'fault', id, message: err.message });
  });
}

async function allocate(id: number): Promise<void> {
  try {
    const ports = await allocateInline(monotonicClock, { bindHost: data.bindHost, range: data.range, onDropped });
    calls.set(id, { ports, accepted: 0, epoch: 0, unacked: 0, digitWindow: { at: -Infinity, n: 0 } });
    post({ t: 'allocated', id, port: ports.port });
  } catch (err) {
    const e = err instanceof AgentPhoneError ? err : new AgentPhoneError('RTP_PORTS', err instanceof Error ? err.message : String(err), { status: 503 });
    post({ t: 'alloc-failed', id, code: e.code, message: e.message, status: e.status, retryable: e.retryable });
  }
}

function close(id: number, call: Call): void {
  calls.delete(id);
  if (call.media) call.media.close();
  else call.ports.release();
  post({ t: 'closed', id });
}

/** One message from the main thread; a stream that fails here has already closed itself with 'fault'. */
function handle(msg: ToMediaWorker): void {
  if (msg.t === 'alloc') {
    void allocate(msg.id);
    return;
  }
  const call = calls.get(msg.id);
  if (!call) return; // closed meanwhile (a fault, or the main thread's close crossed this message)
  const media = call.media;
  switch (msg.t) {
    case 'stream':
      openStream(msg.id, call, msg.settings);
      return;
    case 'release':
    case 'close':
      close(msg.id, call);
      return;
    case 'ack':
      call.unacked = Math.max(0, call.unacked - msg.frames);
      return;
    case 'start':
      media?.start();
      return;
    case 'play':
      call.accepted += Math.ceil(msg.pcm.length / FRAME_SAMPLES);
      media?.play(msg.pcm);
      return;
    case 'flush':
      call.epoch = msg.epoch;
      media?.flush();
      return;
    case 'dtmf':
      media?.sendDtmf(msg.digit, msg.durationMs);
      return;
    case 'update':
      media?.update(msg.remote, msg.codec, msg.hold);
      return;
  }
}

/** This thread's priority, so the media keeps its pace while other work holds the CPUs. */
function raisePriority(nice: number | null): void {
  if (nice === null) return;
  try {
    setThreadNice(nice);
    post({ t: 'priority', nice, error: null });
  } catch (err) {
    post({ t: 'priority', nice: null, error: err instanceof Error ? err.message : String(err) });
  }
}

raisePriority(data.nice);

port.on('message', (msg: ToMediaWorker) => {
  try {
    handle(msg);
  } catch (err) {
    // A bad request for one call (a digit that is not DTMF, say) ends that call only.
    const call = calls.get(msg.id);
    if (call) close(msg.id, call);
    post({ t: 'fault', id: msg.id, message: err instanceof Error ? err.message : String(err) });
  }
});
