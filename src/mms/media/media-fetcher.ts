/**
 * Fetches a message's media into a staging directory with bounded concurrency: a few URLs of
 * one message at a time, a few fetches across the gateway, and one byte budget per message.
 */
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressGate } from '../../net/index.ts';
import { ByteBudget, fetchMedia, type FetchedMedia, type FetchLimits } from './fetch-media.ts';
import { MediaError } from './media-error.ts';

export interface MediaFetcherOptions {
  /** Staging directory for bodies being fetched; owned by the fetcher (emptied at start). */
  dir: string;
  limits: FetchLimits;
  /** Which addresses fetches may reach (the egress policy's media gate). */
  policy: AddressGate;
  maxPerMessage: number;
  maxTotalBytes: number;
  perMessage: number;
  perGateway: number;
}

/** A counting semaphore: `acquire` resolves with the function that frees the slot. */
class Slots {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export class MediaFetcher {
  private readonly slots: Slots;

  constructor(private readonly o: MediaFetcherOptions) {
    this.slots = new Slots(o.perGateway);
  }

  /** Creates the staging directory (0700) and deletes what a crash left in it. */
  async prepare(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.o.dir)) await unlink(join(this.o.dir, name)).catch(() => undefined);
  }

  /**
   * Fetches every URL, in order, into staged files. The first failure stops the others (running
   * ones are aborted, waiting ones never start), deletes what was fetched, and is thrown.
   */
  async fetchAll(urls: readonly string[]): Promise<FetchedMedia[]> {
    if (urls.length > this.o.maxPerMessage) {
      throw new MediaError('MEDIA_TOO_MANY', `media: ${urls.length} URLs, more than the ${this.o.maxPerMessage} one message may carry`);
    }
    const abort = new AbortController();
    const budget = new ByteBudget(this.o.maxTotalBytes);
    const fetched: FetchedMedia[] = [];
    let failure: { err: unknown } | undefined;
    let next = 0;
    const worker = async () => {
      while (failure === undefined && next < urls.length) {
        const index = next++;
        const release = await this.slots.acquire();
        try {
          if (failure !== undefined) return;
          fetched[index] = await fetchMedia(urls[index] as string, index, this.o.limits, this.o.policy, { dir: this.o.dir, signal: abort.signal, budget });
        } catch (err) {
          if (failure === undefined) {
            failure = { err };
            abort.abort();
          }
        } finally {
          release();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.perMessage, urls.length) }, worker));
    if (failure !== undefined) {
      await this.discard(fetched);
      throw failure.err;
    }
    return fetched;
  }

  /** Deletes staged files once the send no longer needs them. */
  async discard(items: readonly (FetchedMedia | undefined)[]): Promise<void> {
    await Promise.all(items.map((m) => m && unlink(m.path).catch(() => undefined)));
  }
}
