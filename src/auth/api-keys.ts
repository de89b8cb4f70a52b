import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock/index.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import { base62, newId } from '../ids/index.ts';
import type { ApiKeyRecord, ApiKeysRepository, NumbersRepository } from '../store/index.ts';

export const API_KEY_PREFIX = 'agp_';

/** What a request authenticated with an API key may do. */
export interface ApiPrincipal {
  keyId: string;
  /** null = every number. */
  numberIds: readonly string[] | null;
}

/** The public view of a key: never the key itself, never its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  numbers: string[] | 'all';
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** SHA-256 of the key (UTF-8), once per API request: the one-shot hash, without a Hash object. */
export function hashApiKey(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

export function toApiKeyView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.id,
    name: record.name,
    prefix: record.keyPrefix,
    numbers: record.numberIds ?? 'all',
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    revokedAt: record.revokedAt,
  };
}

/** last_used_at is written at most this often per key, so auth stays off the write path. */
const TOUCH_INTERVAL_MS = 60_000;
/**
 * How long a key's record is reused without reading the database again. A revocation through
 * this service takes effect at once; one written to the database by another process (the CLI
 * run with the gateway stopped) within this time.
 */
const RECORD_TTL_MS = 5_000;
const RECORD_CACHE_MAX = 10_000;

export class ApiKeyService {
  private readonly lastTouched = new Map<string, number>();
  /** By key hash (hex): the record and when it was read. */
  private readonly records = new Map<string, { record: Promise<ApiKeyRecord | undefined>; readAt: number }>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly numbers: NumbersRepository,
    private readonly clock: Clock,
  ) {}

  /** Creates a key; the returned `key` is the only time it is ever shown. */
  async create(input: { name?: string | undefined; numberIds?: readonly string[] | undefined }): Promise<ApiKeyView & { key: string }> {
    const scope = input.numberIds && input.numberIds.length > 0 ? [...new Set(input.numberIds)] : null;
    for (const id of scope ?? []) {
      if (!this.numbers.get(id)) throw new ValidationError(`numbers: no number has id "${id}"`);
    }
    const key = API_KEY_PREFIX + base62(randomBytes(32));
    const record = {
      id: newId('key'),
      name: input.name?.trim() || 'unnamed',
      keyHash: hashApiKey(key),
      keyPrefix: key.slice(0, API_KEY_PREFIX.length + 4),
      numberIds: scope,
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    await this.keys.insert(record);
    return { ...toApiKeyView({ ...record, lastUsedAt: null, revokedAt: null }), key };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.list()).map(toApiKeyView);
  }

  async revoke(id: string): Promise<ApiKeyView> {
    const existing = await this.keys.get(id);
    if (!existing) throw new NotFoundError(`No API key has id "${id}"`);
    await this.keys.revoke(id, new Date(this.clock.now()).toISOString());
    this.records.clear();
    return toApiKeyView((await this.keys.get(id)) as ApiKeyRecord);
  }

  /** Returns the principal for a presented key, or undefined when it is unknown or revoked. */
  async authenticate(presented: string): Promise<ApiPrincipal | undefined> {
    if (!presented.startsWith(API_KEY_PREFIX)) return undefined;
    const hash = hashApiKey(presented);
    const now = this.clock.now();
    const record = await this.lookup(hash, now);
    if (!record || !timingSafeEqual(record.keyHash, hash) || record.revokedAt !== null) return undefined;
    if (now - (this.lastTouched.get(record.id) ?? 0) >= TOUCH_INTERVAL_MS) {
      // Marked before the write, so the requests arriving while it runs do not write too.
      this.lastTouched.set(record.id, now);
      await this.keys.touch(record.id, new Date(now).toISOString());
    }
    return { keyId: record.id, numberIds: record.numberIds };
  }

  /** Concurrent requests with one key share one read: the pending read is what is cached. */
  private lookup(hash: Buffer, now: number): Promise<ApiKeyRecord | undefined> {
    const k = hash.toString('hex');
    const cached = this.records.get(k);
    if (cached && now - cached.readAt < RECORD_TTL_MS && now >= cached.readAt) return cached.record;
    const record = this.keys.findByHash(hash);
    if (this.records.size >= RECORD_CACHE_MAX) this.records.clear(); // a flood of made-up keys cannot grow it
    const entry = { record, readAt: now };
    this.records.set(k, entry);
    // A failed read is not kept: the next request asks the database again.
    record.catch(() => {
      if (this.records.get(k) === entry) this.records.delete(k);
    });
    return record;
  }
}

/** Whether a principal may see a number: out-of-scope numbers look exactly like missing ones. */
export function canAccessNumber(principal: ApiPrincipal, numberId: string): boolean {
  return principal.numberIds === null || principal.numberIds.includes(numberId);
}
