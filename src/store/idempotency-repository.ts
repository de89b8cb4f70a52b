import type { Db } from './db.ts';

export interface IdempotencyRecord {
  requestHash: string;
  messageId: string;
  response: string;
  createdAt: number;
}

/** Remembers send responses by (API key, number, Idempotency-Key). */
export class IdempotencyRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      get: db.prepare<[string, string, string], { request_hash: string; message_id: string; response: string; created_at: number }>(
        `SELECT request_hash, message_id, response, created_at FROM idempotency_keys
         WHERE api_key_id = ? AND number_id = ? AND idem_key = ?`,
      ),
      put: db.prepare(
        `INSERT INTO idempotency_keys (api_key_id, number_id, idem_key, request_hash, message_id, response, created_at)
         VALUES (@apiKeyId, @numberId, @key, @requestHash, @messageId, @response, @createdAt)
         ON CONFLICT (api_key_id, number_id, idem_key) DO UPDATE SET request_hash = excluded.request_hash,
           message_id = excluded.message_id, response = excluded.response, created_at = excluded.created_at`,
      ),
      prune: db.prepare<[number]>('DELETE FROM idempotency_keys WHERE created_at < ?'),
    };
  }

  get(apiKeyId: string, numberId: string, key: string): IdempotencyRecord | undefined {
    const r = this.stmts.get.get(apiKeyId, numberId, key);
    return r && { requestHash: r.request_hash, messageId: r.message_id, response: r.response, createdAt: r.created_at };
  }

  put(r: IdempotencyRecord & { apiKeyId: string; numberId: string; key: string }): void {
    this.stmts.put.run(r);
  }

  pruneOlderThan(epochMs: number): number {
    return this.stmts.prune.run(epochMs).changes;
  }
}
