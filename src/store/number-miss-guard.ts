import { fullBucket, takeToken, type TokenBucket } from '../metering/token-bucket.ts';

export interface NumberMissGuardOptions {
  /** Database reads for ids the cache lacks, per second, sustained… */
  readsPerSecond?: number;
  /** …and at once. */
  burst?: number;
  /** An id the database did not have is answered as missing, without a read, this long. */
  absentTtlMs?: number;
  /** Ids remembered as absent at most (the oldest are forgotten first). */
  maxAbsent?: number;
  /** Milliseconds, for the bucket and the TTL. */
  now?: () => number;
}

/** A number id is newId('num'): anything longer is not one, and is never looked up. */
const MAX_ID_LENGTH = 64;

/**
 * Bounds the reads a cluster node's number cache makes for ids it does not hold (a number made
 * on another node whose hint was lost). Whoever sends ids that do not exist (random ones, from a
 * script) gets at most `readsPerSecond` reads out of this node, whatever the request rate: a
 * token bucket pays for each read, an id found absent is answered from memory for `absentTtlMs`,
 * and concurrent misses of one id share one read. Past the bound a miss answers "not found",
 * which the next bus hint or resync corrects.
 */
export class NumberMissGuard {
  readonly #rate: number;
  readonly #burst: number;
  readonly #ttlMs: number;
  readonly #maxAbsent: number;
  readonly #now: () => number;
  readonly #bucket: TokenBucket;
  /** id → when it stops being answered as absent; in insertion order, so the first is the oldest. */
  readonly #absent = new Map<string, number>();
  readonly #reading = new Map<string, Promise<void>>();

  constructor(options: NumberMissGuardOptions = {}) {
    this.#rate = options.readsPerSecond ?? 20;
    this.#burst = options.burst ?? 20;
    this.#ttlMs = options.absentTtlMs ?? 2_000;
    this.#maxAbsent = options.maxAbsent ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#bucket = fullBucket(this.#burst, this.#now());
  }

  /** Runs `read` for `id` unless the bound refuses it (then false); a read already running for it is shared. */
  async read(id: string, read: () => Promise<void>): Promise<boolean> {
    const running = this.#reading.get(id);
    if (running) {
      await running;
      return true;
    }
    if (id.length > MAX_ID_LENGTH || this.#knownAbsent(id) || !this.#take()) return false;
    const reading = read().finally(() => this.#reading.delete(id));
    this.#reading.set(id, reading);
    await reading;
    return true;
  }

  /** The read found no row for `id`. */
  absent(id: string): void {
    this.#absent.delete(id);
    this.#absent.set(id, this.#now() + this.#ttlMs);
    if (this.#absent.size > this.#maxAbsent) this.#absent.delete(this.#absent.keys().next().value as string);
  }

  /** `id` now exists (a write here, or a row read again): it is no longer answered as absent. */
  present(id: string): void {
    this.#absent.delete(id);
  }

  #knownAbsent(id: string): boolean {
    const until = this.#absent.get(id);
    if (until === undefined) return false;
    if (this.#now() < until) return true;
    this.#absent.delete(id);
    return false;
  }

  #take(): boolean {
    return takeToken(this.#bucket, this.#rate, this.#burst, this.#now()) === 0;
  }
}
