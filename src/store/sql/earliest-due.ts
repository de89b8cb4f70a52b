import { sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';

/** The work queues that are per line: SMS parts, outbound MMS, MMS notifications to fetch. */
type LineQueue = 'message_parts' | 'mms_outbound' | 'mms_inbound';

/**
 * When the next row of `table` in `status` on one of `lineIds` is due (ms), or undefined when
 * there is none: how long a line's dispatcher may sleep.
 */
export async function earliestDueAt(db: Kysely<Database>, table: LineQueue, status: string, lineIds: readonly string[]): Promise<number | undefined> {
  if (lineIds.length === 0) return undefined;
  const { rows } = await sql<{ t: number | null }>`
    SELECT min(next_attempt_at) AS t FROM ${sql.table(table)}
    WHERE status = ${status} AND line_id IN (${sql.join(lineIds)})`.execute(db);
  return rows[0]?.t ?? undefined;
}
