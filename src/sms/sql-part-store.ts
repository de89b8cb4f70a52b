/**
 * The PartStore on the gateway's store, SQLite or PostgreSQL (tables from migration 002, ports
 * from 013). One Kysely implementation for both dialects.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, SqlStore } from '../store/index.ts';
import type { SmsPartSetsTable, SmsPartsTable } from '../store/sql/database.ts';
import type { Alphabet } from './dcs.ts';
import type { InboundPart, MessagePorts, PartStore, PartStoreTx, SetKey, StoredPart, StoredSet } from './reassembly.ts';

/** Parts wait in the store; `deliver` gets the transaction's executor to write the message on. */
export class SqlPartStore implements PartStore<Kysely<Database>> {
  constructor(private readonly store: SqlStore<Database>) {}

  transaction<T>(fn: (parts: PartStoreTx, tx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.store.tx((tx) => fn(new SqlPartStoreTx(tx), tx));
  }

  async openSetsFirstSeenBefore(cutoffMs: number): Promise<StoredSet[]> {
    const rows = await this.store.db
      .selectFrom('sms_part_sets')
      .selectAll()
      .where('delivered_at_ms', 'is', null)
      .where('first_seen_ms', '<=', cutoffMs)
      .orderBy('first_seen_ms')
      .execute();
    return rows.map(toSet);
  }

  async purgeDelivered(cutoffMs: number): Promise<number> {
    const res = await this.store.db
      .deleteFrom('sms_part_sets')
      .where('delivered_at_ms', 'is not', null)
      .where('delivered_at_ms', '<', cutoffMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** The part store's reads and writes inside one transaction. */
class SqlPartStoreTx implements PartStoreTx {
  constructor(private readonly db: Kysely<Database>) {}

  async openSet(key: SetKey, nowMs: number): Promise<StoredSet> {
    // One upsert on the partial unique index of open sets: it creates the set or finds it, and on
    // PostgreSQL locks its row until the transaction ends, so two parts of one set accepted at
    // once (two connections) take turns and the second sees the first's part when it counts.
    const row = await this.db
      .insertInto('sms_part_sets')
      .values({ line_id: key.line, originator: key.originator, ref_bits: key.refBits, reference: key.reference, total: key.total, first_seen_ms: nowMs })
      .onConflict((oc) =>
        oc
          .columns(['line_id', 'originator', 'ref_bits', 'reference', 'total'])
          .where('delivered_at_ms', 'is', null)
          .doUpdateSet((eb) => ({ first_seen_ms: eb.ref('sms_part_sets.first_seen_ms') })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSet(row);
  }

  async findDeliveredSets(key: SetKey, sinceMs: number): Promise<StoredSet[]> {
    const rows = await this.db
      .selectFrom('sms_part_sets')
      .selectAll()
      .where('line_id', '=', key.line)
      .where('originator', '=', key.originator)
      .where('ref_bits', '=', key.refBits)
      .where('reference', '=', key.reference)
      .where('total', '=', key.total)
      .where('delivered_at_ms', '>=', sinceMs)
      .orderBy('delivered_at_ms', 'desc')
      .execute();
    return rows.map(toSet);
  }

  async addPart(setId: number, seq: number, part: InboundPart, nowMs: number): Promise<boolean> {
    const res = await this.db
      .insertInto('sms_parts')
      .values({
        set_id: setId,
        seq,
        encoding: part.encoding,
        text: part.text,
        data: part.data === null ? null : Buffer.from(part.data),
        ports: part.ports ? JSON.stringify({ source: part.ports.source, destination: part.ports.destination }) : null,
        sent_at: part.sentAt,
        pdu: part.pdu ?? null,
        received_at_ms: nowMs,
      })
      .onConflict((oc) => oc.columns(['set_id', 'seq']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async parts(setId: number): Promise<StoredPart[]> {
    const rows = await this.db
      .selectFrom('sms_parts')
      .select(['seq', 'encoding', 'text', 'data', 'ports', 'sent_at', 'pdu', 'received_at_ms'])
      .where('set_id', '=', setId)
      .orderBy('seq')
      .execute();
    return rows.map(toPart);
  }

  async markDelivered(setId: number, nowMs: number): Promise<boolean> {
    const res = await this.db
      .updateTable('sms_part_sets')
      .set({ delivered_at_ms: nowMs })
      .where('id', '=', setId)
      .where('delivered_at_ms', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }
}

function toSet(r: Selectable<SmsPartSetsTable>): StoredSet {
  return {
    id: r.id,
    line: r.line_id,
    originator: r.originator,
    refBits: r.ref_bits === 16 ? 16 : 8,
    reference: r.reference,
    total: r.total,
    firstSeenMs: r.first_seen_ms,
  };
}

function toPart(r: Omit<Selectable<SmsPartsTable>, 'set_id'>): StoredPart {
  return {
    seq: r.seq,
    // The column holds only what addPart wrote, an Alphabet.
    encoding: r.encoding as Alphabet,
    text: r.text,
    data: r.data === null ? null : new Uint8Array(r.data),
    ports: r.ports === null ? null : (JSON.parse(r.ports) as MessagePorts),
    sentAt: r.sent_at,
    pdu: r.pdu,
    receivedAtMs: r.received_at_ms,
  };
}
