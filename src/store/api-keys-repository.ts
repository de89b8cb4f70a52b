import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database } from './sql/database.ts';
import { runTransaction } from './sql/transaction-guard.ts';

export interface ApiKeyRecord {
  id: string;
  name: string;
  keyHash: Buffer;
  keyPrefix: string;
  /** null = every number; otherwise the number ids the key may use. */
  numberIds: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A key's row with one of its scoped numbers (null when it has none, or is for every number). */
type KeyScopeRow = Selectable<ApiKeysTable> & { number_id: string | null };

/** API keys, stored by SHA-256 hash only; one implementation for SQLite and PostgreSQL. */
export class ApiKeysRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The key and its scope together (in the caller's transaction when built on one). */
  async insert(key: Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt'>): Promise<void> {
    const write = async (tx: Kysely<Database>) => {
      await tx
        .insertInto('api_keys')
        .values({
          id: key.id,
          name: key.name,
          key_hash: key.keyHash,
          key_prefix: key.keyPrefix,
          all_numbers: key.numberIds === null ? 1 : 0,
          created_at: key.createdAt,
        })
        .execute();
      const scope = key.numberIds ?? [];
      if (scope.length > 0) await tx.insertInto('api_key_numbers').values(scope.map((numberId) => ({ key_id: key.id, number_id: numberId }))).execute();
    };
    await (this.db.isTransaction ? write(this.db) : runTransaction(this.db, write));
  }

  /** Checked on every API request: one query, the scope joined in. */
  async findByHash(hash: Buffer): Promise<ApiKeyRecord | undefined> {
    return fold(await this.withScope().where('api_keys.key_hash', '=', hash).orderBy('api_key_numbers.number_id').execute())[0];
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return fold(await this.withScope().where('api_keys.id', '=', id).orderBy('api_key_numbers.number_id').execute())[0];
  }

  async list(): Promise<ApiKeyRecord[]> {
    return fold(await this.withScope().orderBy('api_keys.created_at').orderBy('api_keys.id').orderBy('api_key_numbers.number_id').execute());
  }

  /** Returns false when the key does not exist or was already revoked. */
  async revoke(id: string, now: string): Promise<boolean> {
    const res = await this.db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async touch(id: string, now: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /** One row per scoped number, one with number_id null for a key without any (or for every number). */
  private withScope() {
    return this.db
      .selectFrom('api_keys')
      .leftJoin('api_key_numbers', (join) => join.onRef('api_key_numbers.key_id', '=', 'api_keys.id').on('api_keys.all_numbers', '=', 0))
      .selectAll('api_keys')
      .select('api_key_numbers.number_id');
  }
}

/** Joined rows back to records, keys in the order of their first row. */
function fold(rows: KeyScopeRow[]): ApiKeyRecord[] {
  const byId = new Map<string, ApiKeyRecord>();
  for (const row of rows) {
    let record = byId.get(row.id);
    if (!record) {
      record = {
        id: row.id,
        name: row.name,
        keyHash: row.key_hash,
        keyPrefix: row.key_prefix,
        numberIds: row.all_numbers === 1 ? null : [],
        createdAt: row.created_at,
        lastUsedAt: row.last_used_at,
        revokedAt: row.revoked_at,
      };
      byId.set(row.id, record);
    }
    if (row.number_id !== null) record.numberIds?.push(row.number_id);
  }
  return [...byId.values()];
}
