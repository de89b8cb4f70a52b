/** The main thread's handle on the benchmark's callers (voice-caller-thread.ts). */
import { Worker } from 'node:worker_threads';
import type { MediaFigures } from './voice-media-stats.ts';

export type CallerRequest =
  | { t: 'open'; id: number; target?: { address: string; port: number } }
  | { t: 'turn'; id: number }
  | { t: 'close'; id: number }
  | { t: 'baseline'; id: number; ms: number }
  | { t: 'run'; id: number; command: string; args: string[]; cwd: string; timeoutMs: number };

export type CallerReply =
  | { t: 'opened'; id: number; port: number }
  | { t: 'turned'; id: number; speechEnd: number; replyAt: number }
  | { t: 'closed'; id: number; figures: MediaFigures }
  | { t: 'baseline'; id: number; spacing: number[] }
  | { t: 'ran'; id: number; code: number | null };

/** Absolute times from the callers' thread (timeOrigin + now) on this thread's performance.now() scale. */
export const toLocal = (abs: number): number => abs - performance.timeOrigin;

export class CallerThread {
  private readonly worker = new Worker(new URL('./voice-caller-entry.mjs', import.meta.url));
  private nextId = 1;
  private readonly waiting = new Map<number, (r: CallerReply) => void>();

  constructor() {
    this.worker.on('message', (r: CallerReply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      w?.(r);
    });
  }

  private ask<T extends CallerReply['t']>(req: CallerRequest, _expect: T): Promise<Extract<CallerReply, { t: T }>> {
    return new Promise((resolve) => {
      this.waiting.set(req.id, (r) => resolve(r as Extract<CallerReply, { t: T }>));
      this.worker.postMessage(req);
    });
  }

  /** A caller's socket; it sends to `target`, or else to where the first packet it receives came from. */
  async open(target?: { address: string; port: number }): Promise<RemoteCaller> {
    const id = this.nextId++;
    const r = await this.ask({ t: 'open', id, ...(target && { target }) }, 'opened');
    return new RemoteCaller(this, id, r.port);
  }

  /** The spacing jitter of a bare 20 ms timer loop in the callers' thread, for `ms`. */
  async baseline(ms: number): Promise<number[]> {
    return (await this.ask({ t: 'baseline', id: this.nextId++, ms }, 'baseline')).spacing;
  }

  /**
   * Runs a peer process (sipp) from the callers' thread: spawning forks this whole process, which
   * would stall the gateway's event loop for tens of ms per call if done from its thread.
   */
  async run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null }> {
    return this.ask({ t: 'run', id: this.nextId++, command, args, cwd, timeoutMs }, 'ran');
  }

  /** @internal */
  turn(id: number): Promise<{ speechEnd: number; replyAt: number }> {
    return this.ask({ t: 'turn', id }, 'turned');
  }

  /** @internal */
  async close(id: number): Promise<MediaFigures> {
    return (await this.ask({ t: 'close', id }, 'closed')).figures;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

export class RemoteCaller {
  constructor(
    private readonly thread: CallerThread,
    private readonly id: number,
    readonly port: number,
  ) {}

  /** Speaks 600 ms and waits for the whole reply; times on this thread's performance.now() scale. */
  async turn(): Promise<{ speechEnd: number; replyAt: number }> {
    const r = await this.thread.turn(this.id);
    return { speechEnd: toLocal(r.speechEnd), replyAt: toLocal(r.replyAt) };
  }

  /** Closes the socket; what it measured of the gateway's stream over the call. */
  close(): Promise<MediaFigures> {
    return this.thread.close(this.id);
  }
}
