import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { AgentPhoneError } from '../../errors/index.ts';
import { dtmfEvent } from './dtmf.ts';
import type { CallMedia, MediaEngine, MediaEngineSettings, MediaPorts, StreamSettings } from './media-engine.ts';
import type { FromMediaWorker, MediaWorkerData, Playout, ToMediaWorker } from './media-protocol.ts';
import { FRAME_MS, FRAME_SAMPLES, type MediaCodec, type MediaStreamEvents, type RemoteMedia } from './media-stream.ts';
import type { DroppedKind } from './media-stream.ts';

const ENTRY = new URL('./media-worker-entry.mjs', import.meta.url);

/**
 * A call's MediaStream living in the media worker, seen from the main thread. Commands go down
 * as messages; frames, digits and playout progress come up. `playedSamples` and `queuedMs` are
 * those of the latest progress report (at most one 20 ms frame old), plus audio still on its way
 * down.
 */
class WorkerCallMedia extends EventEmitter<MediaStreamEvents> implements CallMedia {
  private submitted = 0;
  private submittedAtFlush = 0;
  private epoch = 0;
  private report: Playout | undefined;
  private closed = false;
  /** Frames taken since the last ack; acked once per turn of the event loop. */
  private taken = 0;

  constructor(
    private readonly engine: WorkerMediaEngine,
    private readonly id: number,
    readonly localPort: number,
  ) {
    super();
  }

  get playedSamples(): number {
    return this.report?.played ?? 0;
  }

  get queuedMs(): number {
    const r = this.report;
    const frames = r && r.epoch === this.epoch ? r.queued + (this.submitted - r.accepted) : this.submitted - this.submittedAtFlush;
    return Math.max(0, frames) * FRAME_MS;
  }

  start(): void {
    this.send({ t: 'start', id: this.id });
  }

  play(pcm8k: Int16Array): void {
    if (this.closed || pcm8k.length === 0) return;
    this.submitted += Math.ceil(pcm8k.length / FRAME_SAMPLES);
    const pcm = pcm8k.slice(); // the caller keeps its array; the copy's buffer moves to the worker
    this.send({ t: 'play', id: this.id, pcm }, [pcm.buffer]);
  }

  flush(): number {
    const dropped = this.queuedMs;
    this.epoch++;
    this.submittedAtFlush = this.submitted;
    this.send({ t: 'flush', id: this.id, epoch: this.epoch });
    return dropped;
  }

  sendDtmf(digit: string, durationMs?: number): void {
    dtmfEvent(digit); // throws here, for the caller, on a digit that is not one
    this.send({ t: 'dtmf', id: this.id, digit, durationMs });
  }

  update(remote: RemoteMedia, codec: MediaCodec, hold: boolean): void {
    this.send({ t: 'update', id: this.id, remote, codec, hold });
  }

  close(): void {
    if (this.closed) return;
    this.send({ t: 'close', id: this.id });
    this.ended();
  }

  /** The stream is gone (closed here, or by the worker after a fault). */
  ended(): void {
    this.closed = true;
    this.engine.forget(this.id);
    this.removeAllListeners();
  }

  /**
   * A message from the worker for this stream. Listeners run here as they would in the stream's
   * own handlers: one that throws ends this call's media ('fault'), never the process.
   */
  deliver(msg: FromMediaWorker): void {
    if (this.closed) return;
    try {
      this.dispatch(msg);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private fail(err: Error): void {
    const listeners = this.listeners('fault');
    this.close();
    for (const l of listeners) {
      try {
        l(err);
      } catch {
        // a fault listener's own failure must not escape either
      }
    }
  }

  private dispatch(msg: FromMediaWorker): void {
    switch (msg.t) {
      case 'frame':
        this.report = msg.playout;
        if (this.taken++ === 0) setImmediate(() => this.ack());
        this.emit('frame', msg.pcm);
        return;
      case 'drained':
        this.report = msg.playout;
        // Audio played after the worker drained is still to come: that drain is not this one.
        if (this.queuedMs === 0) this.emit('drained');
        return;
      case 'dtmf':
        if (this.taken++ === 0) setImmediate(() => this.ack());
        this.emit('dtmf', msg.event);
        return;
      case 'fault':
        this.fail(new AgentPhoneError('MEDIA_FAULT', msg.message));
        return;
      default:
        return;
    }
  }

  private ack(): void {
    const frames = this.taken;
    this.taken = 0;
    this.send({ t: 'ack', id: this.id, frames });
  }

  private send(msg: ToMediaWorker, transfer?: ArrayBuffer[]): void {
    if (!this.closed) this.engine.send(msg, transfer);
  }
}

interface Pending {
  resolve(ports: MediaPorts): void;
  reject(err: Error): void;
}

/**
 * Calls' RTP in one worker thread (src/voice/rtp/media-worker.ts): ports are bound there and
 * every packet is sent and received there. The worker starts with the engine and again after it
 * dies (every call it carried ends with a media fault; new calls get a fresh worker).
 */
export class WorkerMediaEngine implements MediaEngine {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, WorkerCallMedia>();
  private closing = false;

  constructor(private readonly settings: MediaEngineSettings) {}

  /** Starts the worker now rather than at the first call (its start takes a moment). */
  warm(): void {
    this.ensureWorker();
  }

  allocate(): Promise<MediaPorts> {
    if (this.closing) return Promise.reject(new AgentPhoneError('RTP_PORTS', 'voice is stopping', { status: 503 }));
    const id = this.nextId++;
    return new Promise<MediaPorts>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ t: 'alloc', id });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const s of [...this.streams.values()]) s.close();
    const worker = this.worker;
    this.worker = undefined;
    // Ending the thread closes whatever sockets it still holds.
    await worker?.terminate();
  }

  /** @internal The worker thread, while one runs (tests end it to see calls fault). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  /** @internal */
  send(msg: ToMediaWorker, transfer?: ArrayBuffer[]): void {
    this.ensureWorker().postMessage(msg, transfer);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  private ports(id: number, port: number): MediaPorts {
    let used = false;
    return {
      port,
      stream: (settings: StreamSettings) => {
        if (used) throw new Error('the media ports already carry a stream');
        used = true;
        const media = new WorkerCallMedia(this, id, port);
        this.streams.set(id, media);
        this.send({ t: 'stream', id, settings });
        return media;
      },
      release: () => {
        if (used) return;
        used = true;
        this.send({ t: 'release', id });
      },
    };
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const data: MediaWorkerData = { bindHost: this.settings.bindHost, range: this.settings.range, nice: this.settings.threadNice ?? null };
    const worker = new Worker(ENTRY, { workerData: data, name: 'agentphone-media' });
    worker.unref(); // the gateway ends it on stop; it must never hold a finished process open
    worker.on('message', (msg: FromMediaWorker) => this.onMessage(msg));
    const died = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(new AgentPhoneError('RTP_PORTS', `media worker stopped: ${err.message}`, { status: 503, retryable: true }));
      }
      for (const [id, s] of [...this.streams]) s.deliver({ t: 'fault', id, message: `media worker stopped: ${err.message}` });
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private onMessage(msg: FromMediaWorker): void {
    if (msg.t === 'priority') {
      this.settings.onPriority?.(msg.nice, msg.error);
      return;
    }
    if (msg.t === 'dropped') {
      for (const [kind, n] of Object.entries(msg.counts) as Array<[DroppedKind, number]>) this.settings.onDropped?.(kind, n);
      return;
    }
    if (msg.t === 'allocated' || msg.t === 'alloc-failed') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.t === 'allocated') p.resolve(this.ports(msg.id, msg.port));
      else p.reject(new AgentPhoneError(msg.code, msg.message, { status: msg.status, retryable: msg.retryable }));
      return;
    }
    this.streams.get(msg.id)?.deliver(msg);
  }
}
