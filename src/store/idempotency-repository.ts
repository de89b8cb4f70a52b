import type { Kysely } from 'kysely';
import type { Database } from './sql/database.ts';

export interface IdempotencyRecord {
  requestHash: string;
  messageId: string;
  response: string;
  createdAt: number;
}

/** Remembers send responses by (API key, number, Idempotency-Key). */
export class IdempotencyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(apiKeyId: string, numberId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const r = await this.db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'message_id', 'response', 'created_at'])
      .where('api_key_id', '=', apiKeyId)
      .where('number_id', '=', numberId)
      .where('idem_key', '=', key)
      .executeTakeFirst();
    return r && { requestHash: r.request_hash, messageId: r.message_id, response: r.response, createdAt: r.created_at };
  }

  /**
   * Records the response. With `replaceBefore`, a record already there is replaced only when it
   * was created before that time (expired); false when a live one stood (another request with the
   * key committed first, perhaps on another node: its response is the one to give). One upsert,
   * so of two racing writers exactly one records.
   */
  async put(r: IdempotencyRecord & { apiKeyId: string; numberId: string; key: string }, replaceBefore?: number): Promise<boolean> {
    const row = await this.db
      .insertInto('idempotency_keys')
      .values({
        api_key_id: r.apiKeyId,
        number_id: r.numberId,
        idem_key: r.key,
        request_hash: r.requestHash,
        message_id: r.messageId,
        response: r.response,
        created_at: r.createdAt,
      })
      .onConflict((oc) => {
        const replace = oc.columns(['api_key_id', 'number_id', 'idem_key']).doUpdateSet((eb) => ({
          request_hash: eb.ref('excluded.request_hash'),
          message_id: eb.ref('excluded.message_id'),
          response: eb.ref('excluded.response'),
          created_at: eb.ref('excluded.created_at'),
        }));
        return replaceBefore === undefined ? replace : replace.where('idempotency_keys.created_at', '<', replaceBefore);
      })
      .returning('message_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async pruneOlderThan(epochMs: number): Promise<number> {
    const res = await this.db.deleteFrom('idempotency_keys').where('created_at', '<', epochMs).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
