/** The PartStore on the gateway's SQLite database (tables from migration 002, ports from 013). */
import type Database from 'better-sqlite3';
import type { Alphabet } from './dcs.ts';
import type { InboundPart, MessagePorts, PartStore, SetKey, StoredPart, StoredSet } from './reassembly.ts';

interface SetRow {
  id: number;
  line_id: string;
  originator: string;
  ref_bits: 8 | 16;
  reference: number;
  total: number;
  first_seen_ms: number;
}

interface PartRow {
  seq: number;
  encoding: Alphabet;
  text: string | null;
  data: Buffer | null;
  ports: string | null;
  sent_at: string | null;
  pdu: string | null;
  received_at_ms: number;
}

const KEY = 'line_id = ? AND originator = ? AND ref_bits = ? AND reference = ? AND total = ?';

export class SqlitePartStore implements PartStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      open: db.prepare(`SELECT * FROM sms_part_sets WHERE ${KEY} AND delivered_at_ms IS NULL`),
      delivered: db.prepare(
        `SELECT * FROM sms_part_sets WHERE ${KEY} AND delivered_at_ms >= ? ORDER BY delivered_at_ms DESC`,
      ),
      create: db.prepare(
        'INSERT INTO sms_part_sets (line_id, originator, ref_bits, reference, total, first_seen_ms) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      addPart: db.prepare(
        `INSERT INTO sms_parts (set_id, seq, encoding, text, data, ports, sent_at, pdu, received_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (set_id, seq) DO NOTHING`,
      ),
      parts: db.prepare('SELECT seq, encoding, text, data, ports, sent_at, pdu, received_at_ms FROM sms_parts WHERE set_id = ? ORDER BY seq'),
      markDelivered: db.prepare('UPDATE sms_part_sets SET delivered_at_ms = ? WHERE id = ?'),
      expired: db.prepare('SELECT * FROM sms_part_sets WHERE delivered_at_ms IS NULL AND first_seen_ms <= ? ORDER BY first_seen_ms'),
      purge: db.prepare('DELETE FROM sms_part_sets WHERE delivered_at_ms IS NOT NULL AND delivered_at_ms < ?'),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  findOpenSet(key: SetKey): StoredSet | undefined {
    const row = this.q.open.get(...keyArgs(key)) as SetRow | undefined;
    return row && toSet(row);
  }

  findDeliveredSets(key: SetKey, sinceMs: number): StoredSet[] {
    return (this.q.delivered.all(...keyArgs(key), sinceMs) as SetRow[]).map(toSet);
  }

  createSet(key: SetKey, nowMs: number): StoredSet {
    const { lastInsertRowid } = this.q.create.run(...keyArgs(key), nowMs);
    return { ...key, id: Number(lastInsertRowid), firstSeenMs: nowMs };
  }

  addPart(setId: number, seq: number, part: InboundPart, nowMs: number): boolean {
    const data = part.data === null ? null : Buffer.from(part.data);
    const ports = part.ports ? JSON.stringify({ source: part.ports.source, destination: part.ports.destination }) : null;
    return this.q.addPart.run(setId, seq, part.encoding, part.text, data, ports, part.sentAt, part.pdu ?? null, nowMs).changes === 1;
  }

  parts(setId: number): StoredPart[] {
    return (this.q.parts.all(setId) as PartRow[]).map((r) => ({
      seq: r.seq,
      encoding: r.encoding,
      text: r.text,
      data: r.data === null ? null : new Uint8Array(r.data),
      ports: r.ports === null ? null : (JSON.parse(r.ports) as MessagePorts),
      sentAt: r.sent_at,
      pdu: r.pdu,
      receivedAtMs: r.received_at_ms,
    }));
  }

  markDelivered(setId: number, nowMs: number): void {
    this.q.markDelivered.run(nowMs, setId);
  }

  openSetsFirstSeenBefore(cutoffMs: number): StoredSet[] {
    return (this.q.expired.all(cutoffMs) as SetRow[]).map(toSet);
  }

  purgeDelivered(cutoffMs: number): number {
    return this.q.purge.run(cutoffMs).changes;
  }
}

function keyArgs(key: SetKey): [string, string, number, number, number] {
  return [key.line, key.originator, key.refBits, key.reference, key.total];
}

function toSet(r: SetRow): StoredSet {
  return { id: r.id, line: r.line_id, originator: r.originator, refBits: r.ref_bits, reference: r.reference, total: r.total, firstSeenMs: r.first_seen_ms };
}
