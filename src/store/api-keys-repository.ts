import type { Db } from './db.ts';

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

interface KeyRow {
  id: string;
  name: string;
  key_hash: Buffer;
  key_prefix: string;
  all_numbers: number;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const COLUMNS = 'id, name, key_hash, key_prefix, all_numbers, created_at, last_used_at, revoked_at';

/** API keys, stored by SHA-256 hash only. */
export class ApiKeysRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO api_keys (id, name, key_hash, key_prefix, all_numbers, created_at)
         VALUES (@id, @name, @keyHash, @keyPrefix, @allNumbers, @createdAt)`,
      ),
      insertScope: db.prepare<[string, string]>('INSERT INTO api_key_numbers (key_id, number_id) VALUES (?, ?)'),
      scope: db.prepare<[string], { number_id: string }>(
        'SELECT number_id FROM api_key_numbers WHERE key_id = ? ORDER BY number_id',
      ),
      byHash: db.prepare<[Buffer], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = ?`),
      byId: db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`),
      all: db.prepare<[], KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`),
      revoke: db.prepare<[string, string]>('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: db.prepare<[string, string]>('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
    };
  }

  insert(key: Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt'>): void {
    this.db.transaction(() => {
      this.stmts.insert.run({
        id: key.id,
        name: key.name,
        keyHash: key.keyHash,
        keyPrefix: key.keyPrefix,
        allNumbers: key.numberIds === null ? 1 : 0,
        createdAt: key.createdAt,
      });
      for (const numberId of key.numberIds ?? []) this.stmts.insertScope.run(key.id, numberId);
    })();
  }

  findByHash(hash: Buffer): ApiKeyRecord | undefined {
    const row = this.stmts.byHash.get(hash);
    return row && this.toRecord(row);
  }

  get(id: string): ApiKeyRecord | undefined {
    const row = this.stmts.byId.get(id);
    return row && this.toRecord(row);
  }

  list(): ApiKeyRecord[] {
    return this.stmts.all.all().map((row) => this.toRecord(row));
  }

  /** Returns false when the key does not exist or was already revoked. */
  revoke(id: string, now: string): boolean {
    return this.stmts.revoke.run(now, id).changes === 1;
  }

  touch(id: string, now: string): void {
    this.stmts.touch.run(now, id);
  }

  private toRecord(row: KeyRow): ApiKeyRecord {
    return {
      id: row.id,
      name: row.name,
      keyHash: row.key_hash,
      keyPrefix: row.key_prefix,
      numberIds: row.all_numbers === 1 ? null : this.stmts.scope.all(row.id).map((r) => r.number_id),
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    };
  }
}
