import type { Kysely, Selectable } from 'kysely';
import { StoreError } from '../errors/index.ts';
import { onPostgres } from './messages-repository.ts';
import { NumberMissGuard } from './number-miss-guard.ts';
import { SecretBox } from './secret-box.ts';
import type { Database, NumbersTable } from './sql/database.ts';
import { runTransaction } from './sql/transaction-guard.ts';

export interface NumberRecord {
  id: string;
  phoneNumber: string;
  lineId: string | null;
  label: string | null;
  webhookUrl: string | null;
  webhookSecret: string;
  webhookTimeoutMs: number;
  overageEnabled: boolean;
  status: 'active' | 'inactive';
  createdAt: string;
  updatedAt: string;
}

export interface NumberSettingsPatch {
  label?: string | null;
  webhookUrl?: string | null;
  webhookTimeoutMs?: number;
  overageEnabled?: boolean;
}

type NumberRow = Selectable<NumbersTable>;

function toRecord(row: NumberRow, box: SecretBox): NumberRecord {
  return {
    id: row.id,
    phoneNumber: row.phone_number,
    lineId: row.line_id,
    label: row.label,
    webhookUrl: row.webhook_url,
    webhookSecret: box.open(row.webhook_secret, row.id),
    webhookTimeoutMs: row.webhook_timeout_ms,
    overageEnabled: row.overage_enabled === 1,
    status: row.status as NumberRecord['status'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Every number by id, in memory, so `get` (read on every API request and on the send path) is
 * synchronous and costs no query. Filled by `load()` (the table has one row per SIM, so it stays
 * small) and changed only after a write here has committed, never with a row a rollback could
 * take back. Several repositories over one store share one cache (see NumbersRepository).
 *
 * On SQLite the gateway is the only writer while it runs (gateway.lock), so the cache is exact.
 * On a cluster (PostgreSQL, several nodes) another node's write is not seen here until
 * `invalidate(id?)` re-reads the row (or every row): a cluster notifier calls it on the others'
 * changes. A hint the bus lost would leave a new number unknown here until the next resync, so
 * `find` also reads an id the cache lacks, within the bounds of `misses`.
 */
export class NumbersCache {
  loaded = false;
  readonly byId = new Map<string, NumberRecord>();
  /** Bumped by every change applied, so a re-read that raced a write does not put back older rows. */
  version = 0;

  /** Told of every number this node changed, after commit: the gateway tells the other nodes. */
  onWrite: ((id: string) => void) | undefined;

  /** On PostgreSQL (a cluster): bounds the reads `find` makes for ids the cache lacks. */
  misses: NumberMissGuard | undefined;

  set(record: NumberRecord): void {
    this.byId.set(record.id, record);
    this.misses?.present(record.id);
    this.version++;
  }

  #tail: Promise<unknown> = Promise.resolve();
  #maxTimeout = { version: -1, size: 0, ms: 0 };

  /**
   * The longest webhook timeout of the numbers (asked at every webhook claim), worked out again
   * only after a change: a row set bumps the version, a row dropped changes the size.
   */
  maxWebhookTimeoutMs(): number {
    const { version, byId } = this;
    if (this.#maxTimeout.version !== version || this.#maxTimeout.size !== byId.size) {
      let ms = 0;
      for (const n of byId.values()) ms = Math.max(ms, n.webhookTimeoutMs);
      this.#maxTimeout = { version, size: byId.size, ms };
    }
    return this.#maxTimeout.ms;
  }

  /**
   * This node's number writes, one at a time, so their cache updates follow the order of their
   * commits (two writes to one number on two pooled connections could otherwise leave the
   * cache with the one that committed first). Number writes are rare: admin changes, a line found.
   */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** A change this node committed (not one re-read from the database). */
  wrote(record: NumberRecord): void {
    this.set(record);
    this.onWrite?.(record.id);
  }
}

/** By root executor: repositories built over the same store share their cache. */
const cacheByDb = new WeakMap<Kysely<Database>, NumbersCache>();

/**
 * Phone numbers and the line each is bound to, one implementation for SQLite and PostgreSQL.
 * Rows are keyed by the E.164 number. Webhook secrets go through `box`: sealed on write when a
 * key is configured, opened on read.
 *
 * `get(id)` is synchronous, served from the cache that `load()` fills: call `await load()` once
 * before the first `get`. The other reads ask the database. Writes open their own transaction
 * (or are one statement) and update the cache after commit, so build the repository on the
 * store's root executor (`store.db`), not on a transaction's, to write through it; for reads
 * inside a transaction use `on(tx)`, which shares the root's cache.
 */
export class NumbersRepository {
  private readonly cache: NumbersCache;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox = new SecretBox(),
    cache?: NumbersCache,
  ) {
    let shared = cache ?? cacheByDb.get(db);
    if (!shared) {
      cacheByDb.set(db, (shared = new NumbersCache()));
      // SQLite's cache is exact (one writer): a miss there is a number that does not exist.
      if (onPostgres(db)) shared.misses = new NumberMissGuard();
    }
    this.cache = shared;
  }

  /**
   * The same repository reading through `db` (a transaction's executor), with this one's secret
   * box and cache: its `get` answers from the cache, its other reads see the transaction's
   * writes. It refuses writes (they go through the root repository). Cheap: build one per unit.
   */
  on(db: Kysely<Database>): NumbersRepository {
    return new NumbersRepository(db, this.box, this.cache);
  }

  /** Reads every number into the cache; `get` answers from it afterwards. */
  /** `listener` hears of every number this node changes, after commit (one listener per store). */
  onLocalWrite(listener: (id: string) => void): void {
    this.cache.onWrite = listener;
  }

  async load(): Promise<void> {
    await this.reread(undefined);
  }

  /**
   * Forgets what the cache holds for `id` (every number when absent) and reads it again from the
   * database. For a cluster: another node changed the number (or bound a new one).
   */
  async invalidate(id?: string): Promise<void> {
    await this.reread(id);
  }

  async list(): Promise<NumberRecord[]> {
    const rows = await this.db.selectFrom('numbers').selectAll().orderBy('phone_number').execute();
    return rows.map((row) => toRecord(row, this.box));
  }

  /** Read on every API request (the send path), so served from memory: a copy, or undefined. */
  get(id: string): NumberRecord | undefined {
    if (!this.cache.loaded) throw new StoreError('NumbersRepository.get() before load(): load the numbers once at start');
    const record = this.cache.byId.get(id);
    return record && { ...record };
  }

  /** The longest webhook timeout any number has (0 with none): how long a delivery may take. */
  maxWebhookTimeoutMs(): number {
    return this.cache.maxWebhookTimeoutMs();
  }

  /**
   * `get`, and on PostgreSQL an id the cache lacks is read from the database first (a number
   * another node made whose bus hint was lost), within NumberMissGuard's bounds. On SQLite, or
   * on a transaction's repository, exactly `get`.
   */
  async find(id: string): Promise<NumberRecord | undefined> {
    const hit = this.get(id);
    const misses = this.cache.misses;
    if (hit || !misses || this.db.isTransaction) return hit;
    if (!(await misses.read(id, () => this.reread(id)))) return undefined;
    const found = this.get(id);
    if (!found) misses.absent(id);
    return found;
  }

  /** Whether `find` reads ids the cache lacks (PostgreSQL). */
  get readsMisses(): boolean {
    return this.cache.misses !== undefined;
  }

  async getByPhone(phoneNumber: string): Promise<NumberRecord | undefined> {
    const row = await this.db.selectFrom('numbers').selectAll().where('phone_number', '=', phoneNumber).executeTakeFirst();
    return row && toRecord(row, this.box);
  }

  async getByLine(lineId: string): Promise<NumberRecord | undefined> {
    const row = await this.db.selectFrom('numbers').selectAll().where('line_id', '=', lineId).executeTakeFirst();
    return row && toRecord(row, this.box);
  }

  /**
   * Records that `phoneNumber` is reachable on `lineId` (a SIM found in a modem, or a virtual
   * line). A number keeps its id (and secret) when its SIM moves to another modem; a line that
   * now carries another SIM releases its old number. One transaction: the line is released
   * before it is bound (line_id is unique), and nobody sees it half done.
   */
  async bindLine(input: { phoneNumber: string; lineId: string; newId: string; newSecret: string; now: string }): Promise<NumberRecord> {
    this.refuseInTransaction('bindLine');
    return this.cache.serial(async () => {
      const { released, bound } = await retryOnUniqueViolation(() => this.bindOnce(input));
      for (const row of released) this.cache.wrote(toRecord(row, this.box));
      const record = toRecord(bound, this.box);
      this.cache.wrote(record);
      return { ...record };
    });
  }

  private bindOnce(input: { phoneNumber: string; lineId: string; newId: string; newSecret: string; now: string }): Promise<{ released: NumberRow[]; bound: NumberRow }> {
    return runTransaction(this.db, async (tx) => {
      const released = await tx
        .updateTable('numbers')
        .set({ line_id: null, status: 'inactive', updated_at: input.now })
        .where('line_id', '=', input.lineId)
        .where('phone_number', '<>', input.phoneNumber)
        .returningAll()
        .execute();
      const bound = await tx
        .insertInto('numbers')
        .values({
          id: input.newId,
          phone_number: input.phoneNumber,
          line_id: input.lineId,
          webhook_secret: this.box.seal(input.newSecret, input.newId),
          status: 'active',
          created_at: input.now,
          updated_at: input.now,
        })
        .onConflict((oc) =>
          oc.column('phone_number').doUpdateSet((eb) => ({ line_id: eb.ref('excluded.line_id'), status: 'active', updated_at: eb.ref('excluded.updated_at') })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return { released, bound };
    });
  }

  /** Changes only what the patch names, in one statement; undefined when the number does not exist. */
  async updateSettings(id: string, patch: NumberSettingsPatch, now: string): Promise<NumberRecord | undefined> {
    this.refuseInTransaction('updateSettings');
    return this.cache.serial(async () => {
      const row = await this.db
        .updateTable('numbers')
        .set({
          ...(patch.label !== undefined && { label: patch.label }),
          ...(patch.webhookUrl !== undefined && { webhook_url: patch.webhookUrl }),
          ...(patch.webhookTimeoutMs !== undefined && { webhook_timeout_ms: patch.webhookTimeoutMs }),
          ...(patch.overageEnabled !== undefined && { overage_enabled: patch.overageEnabled ? 1 : 0 }),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && this.cached(row);
    });
  }

  async setWebhookSecret(id: string, secret: string, now: string): Promise<NumberRecord | undefined> {
    this.refuseInTransaction('setWebhookSecret');
    return this.cache.serial(async () => {
      const row = await this.db
        .updateTable('numbers')
        .set({ webhook_secret: this.box.seal(secret, id), updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && this.cached(row);
    });
  }

  /**
   * Run at start: opens every stored secret, so a wrong or missing key stops the gateway there
   * (never a delivery signed with garbage later), and with a key seals the plaintext ones left
   * from before it was configured. Returns how many were sealed. Each seal is conditional on the
   * stored text being still the plaintext read, so nodes starting together cannot undo each
   * other (the secrets themselves do not change, so the cache stays right).
   */
  async sealSecrets(): Promise<number> {
    const rows = await this.db.selectFrom('numbers').select(['id', 'webhook_secret']).execute();
    const plain = rows.filter((row) => {
      this.box.open(row.webhook_secret, row.id);
      return this.box.sealing && !SecretBox.isSealed(row.webhook_secret);
    });
    if (plain.length === 0) return 0;
    this.refuseInTransaction('sealSecrets');
    return runTransaction(this.db, async (tx) => {
      let sealed = 0;
      for (const row of plain) {
        const res = await tx
          .updateTable('numbers')
          .set({ webhook_secret: this.box.seal(row.webhook_secret, row.id) })
          .where('id', '=', row.id)
          .where('webhook_secret', '=', row.webhook_secret)
          .executeTakeFirst();
        sealed += Number(res.numUpdatedRows);
      }
      return sealed;
    });
  }

  private cached(row: NumberRow): NumberRecord {
    const record = toRecord(row, this.box);
    this.cache.wrote(record);
    return { ...record };
  }

  /** A write's cache update would precede a commit that may never come. */
  private refuseInTransaction(method: string): void {
    if (this.db.isTransaction) throw new StoreError(`NumbersRepository.${method}() on a transaction: write through a repository on the store's root executor`);
  }

  /** Reads `id` (or every row) again; retried when a write here changed the cache meanwhile. */
  private async reread(id: string | undefined): Promise<void> {
    // Inside a transaction it could cache a row a rollback takes back.
    this.refuseInTransaction(id === undefined ? 'load' : 'invalidate');
    for (;;) {
      const version = this.cache.version;
      let query = this.db.selectFrom('numbers').selectAll();
      if (id !== undefined) query = query.where('id', '=', id);
      const rows = await query.execute();
      if (this.cache.version !== version) continue;
      if (id === undefined) this.cache.byId.clear();
      else this.cache.byId.delete(id);
      for (const row of rows) this.cache.set(toRecord(row, this.box));
      if (id === undefined) this.cache.loaded = true;
      return;
    }
  }
}

/**
 * On PostgreSQL two transactions binding at once (the same line, or the same new number) do not
 * see each other's uncommitted rows: the second meets the first's row in a unique index and
 * fails once the first commits. Run again, it sees that row and releases or reuses it.
 * (SQLite runs one transaction at a time, so it never gets here.)
 */
async function retryOnUniqueViolation<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= 3 || (code !== '23505' && code !== 'SQLITE_CONSTRAINT_UNIQUE')) throw err;
    }
  }
}
