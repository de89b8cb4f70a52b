/**
 * Reassembly of concatenated SMS. Parts are persisted before `accept` returns, so the
 * caller acknowledges (deletes from the modem) only what is safe on disk; a set completes
 * when every part is in, or is delivered partial after a timeout (default 24 h).
 */
import { createHash } from 'node:crypto';
import type { Alphabet } from './dcs.ts';
import { tpduHexOf } from './pdu.ts';
import type { DecodedDeliver } from './types.ts';
import type { Concat, Ports } from './udh.ts';

export interface InboundPart {
  readonly line: string;
  readonly originator: string;
  /** Null for a single-part message. */
  readonly concat: Concat | null;
  readonly encoding: Alphabet;
  readonly text: string | null;
  readonly data: Uint8Array | null;
  /** Application ports from the UDH, when the part is port-addressed. */
  readonly ports?: Ports | null;
  /** The service centre time stamp, ISO 8601 with offset. */
  readonly sentAt: string | null;
  /** The raw PDU, kept for operators; its TPDU is what tells two parts apart. */
  readonly pdu?: string;
}

/** Application ports as a message carries them (the element's size does not matter to it). */
export interface MessagePorts {
  readonly source: number;
  readonly destination: number;
}

export interface ReassembledMessage {
  readonly line: string;
  readonly originator: string;
  readonly encoding: Alphabet;
  /** Part texts joined in order; missing parts contribute nothing. */
  readonly text: string;
  /** Part payloads joined in order, for 8-bit messages. */
  readonly data: Uint8Array | null;
  /** The ports of a port-addressed message (from the first part that names them). */
  readonly ports: MessagePorts | null;
  readonly reference: number | null;
  readonly total: number;
  readonly receivedParts: number;
  readonly partial: boolean;
  readonly missingParts: readonly number[];
  /** Time stamp of the first part present. */
  readonly sentAt: string | null;
  readonly firstReceivedAtMs: number;
  /**
   * SHA-256 over the line and every present part's whole TPDU (originator, PID, DCS, SCTS, UDH
   * and user data): the same message read twice has the same one, two messages that differ in
   * any octet do not. Parts stored without their PDU count by their decoded content instead.
   */
  readonly fingerprint: string;
}

export interface SetKey {
  readonly line: string;
  readonly originator: string;
  readonly refBits: 8 | 16;
  readonly reference: number;
  readonly total: number;
}

export interface StoredSet extends SetKey {
  readonly id: number;
  readonly firstSeenMs: number;
}

export interface StoredPart {
  readonly seq: number;
  readonly encoding: Alphabet;
  readonly text: string | null;
  readonly data: Uint8Array | null;
  readonly ports: MessagePorts | null;
  readonly sentAt: string | null;
  /** The raw PDU (SMSC field first), null when it was not given. */
  readonly pdu: string | null;
  readonly receivedAtMs: number;
}

/**
 * Where parts wait. `Tx` is what a delivery writes its message on, so the message commits with
 * the set's delivery or not at all (the SQL store hands over its transaction's executor).
 */
export interface PartStore<Tx = unknown> {
  /** Runs `fn` as one transaction; its reads and writes go through `parts`. */
  transaction<T>(fn: (parts: PartStoreTx, tx: Tx) => Promise<T>): Promise<T>;
  /** Sets still open that were first seen at or before `cutoffMs`, oldest first. */
  openSetsFirstSeenBefore(cutoffMs: number): Promise<StoredSet[]>;
  /** Drops delivered sets (tombstones) delivered before `cutoffMs`. */
  purgeDelivered(cutoffMs: number): Promise<number>;
}

/** The part store inside one transaction. */
export interface PartStoreTx {
  /**
   * The open set with this key, created when there is none. It is held against other
   * transactions until this one ends, so two parts of one set never count each other out.
   */
  openSet(key: SetKey, nowMs: number): Promise<StoredSet>;
  /** Sets with this key delivered at or after `sinceMs`, newest first. */
  findDeliveredSets(key: SetKey, sinceMs: number): Promise<StoredSet[]>;
  /** False when the set already holds this part number. */
  addPart(setId: number, seq: number, part: InboundPart, nowMs: number): Promise<boolean>;
  parts(setId: number): Promise<StoredPart[]>;
  /** False when the set was already delivered (by another transaction): deliver nothing then. */
  markDelivered(setId: number, nowMs: number): Promise<boolean>;
}

/** Writes a reassembled message on the part store's transaction. */
export type DeliverMessage<Tx> = (message: ReassembledMessage, tx: Tx) => Promise<void> | void;

export interface ReassemblerOptions<Tx = unknown> {
  store: PartStore<Tx>;
  clock: { now(): number };
  /** How long an incomplete set waits before it is delivered partial (default 24 h). */
  timeoutMs?: number;
  /** How long a delivered set still absorbs duplicate parts (default 1 h). */
  duplicateWindowMs?: number;
}

export type AcceptOutcome = 'delivered' | 'stored' | 'duplicate';

export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** Thrown inside accept's transaction to roll back a set it may have opened for a duplicate. */
const DUPLICATE = Symbol('duplicate part');

export class Reassembler<Tx = unknown> {
  private readonly store: PartStore<Tx>;
  private readonly clock: { now(): number };
  private readonly timeoutMs: number;
  private readonly duplicateWindowMs: number;

  constructor(opts: ReassemblerOptions<Tx>) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REASSEMBLY_TIMEOUT_MS;
    this.duplicateWindowMs = opts.duplicateWindowMs ?? 60 * 60 * 1000;
  }

  /**
   * Stores a part and, when it completes its set, calls `deliver` inside the same
   * transaction, so the message write commits with the set's delivery or not at all.
   * If `deliver` throws, nothing is kept and the part must not be acknowledged.
   */
  async accept(part: InboundPart, deliver: DeliverMessage<Tx>): Promise<AcceptOutcome> {
    const now = this.clock.now();
    const c = part.concat;
    if (c === null) {
      const stored: StoredPart = {
        seq: 1,
        encoding: part.encoding,
        text: part.text,
        data: part.data,
        ports: messagePorts(part.ports),
        sentAt: part.sentAt,
        pdu: part.pdu ?? null,
        receivedAtMs: now,
      };
      await this.store.transaction(async (_parts, tx) => deliver(assemble(part, null, 1, [stored]), tx));
      return 'delivered';
    }
    const key: SetKey = { line: part.line, originator: part.originator, refBits: c.refBits, reference: c.ref, total: c.total };
    try {
      return await this.store.transaction(async (parts, tx): Promise<AcceptOutcome> => {
        // The set first: it holds the key, so the duplicate check below cannot race a delivery.
        const set = await parts.openSet(key, now);
        if (await this.isLateDuplicate(parts, key, c.part, part, now)) throw DUPLICATE;
        if (!(await parts.addPart(set.id, c.part, part, now))) return 'duplicate';
        const stored = await parts.parts(set.id);
        if (stored.length < c.total) return 'stored';
        await deliver(assemble(part, c.ref, c.total, stored), tx);
        await parts.markDelivered(set.id, now);
        return 'delivered';
      });
    } catch (err) {
      if (err === DUPLICATE) return 'duplicate';
      throw err;
    }
  }

  /**
   * Delivers, flagged partial, every set older than the timeout, each in its own
   * transaction with `deliver`; forgets tombstones past the duplicate window.
   * Returns how many messages were delivered (a set another process delivered first is skipped).
   */
  async expire(deliver: DeliverMessage<Tx>): Promise<number> {
    const now = this.clock.now();
    let delivered = 0;
    for (const set of await this.store.openSetsFirstSeenBefore(now - this.timeoutMs)) {
      const done = await this.store.transaction(async (parts, tx) => {
        // Marked first: the conditional update is the claim, so of two expiring (or a last part
        // arriving meanwhile) exactly one delivers the set.
        if (!(await parts.markDelivered(set.id, now))) return false;
        const stored = await parts.parts(set.id);
        const first = stored[0];
        const anchor = { line: set.line, originator: set.originator, encoding: first?.encoding ?? 'gsm7' };
        await deliver(assemble(anchor, set.reference, set.total, stored), tx);
        return true;
      });
      if (done) delivered++;
    }
    await this.store.purgeDelivered(now - this.duplicateWindowMs);
    return delivered;
  }

  /**
   * A part equal to one of a recently delivered set with the same key: the same TPDU, octet
   * for octet (a part with another PID, DCS or time stamp is another message's).
   */
  private async isLateDuplicate(parts: PartStoreTx, key: SetKey, seq: number, part: InboundPart, now: number): Promise<boolean> {
    const incoming: StoredPart = { ...part, seq, ports: messagePorts(part.ports), pdu: part.pdu ?? null, receivedAtMs: now };
    for (const set of await parts.findDeliveredSets(key, now - this.duplicateWindowMs)) {
      const same = (await parts.parts(set.id)).find((p) => p.seq === seq);
      if (same && samePart(same, incoming)) return true;
    }
    return false;
  }
}

/** The reassembly view of a decoded SMS-DELIVER. */
export function inboundPart(line: string, pdu: DecodedDeliver, raw?: string): InboundPart {
  return {
    line,
    originator: pdu.originator.number,
    concat: pdu.concat,
    encoding: pdu.encoding,
    text: pdu.text,
    data: pdu.data,
    ports: pdu.ports,
    sentAt: pdu.timestamp.iso,
    ...(raw === undefined ? {} : { pdu: raw }),
  };
}

function assemble(
  anchor: { line: string; originator: string; encoding: Alphabet },
  reference: number | null,
  total: number,
  parts: readonly StoredPart[],
): ReassembledMessage {
  const sorted = [...parts].sort((a, b) => a.seq - b.seq);
  const have = new Set(sorted.map((p) => p.seq));
  const missingParts: number[] = [];
  for (let seq = 1; seq <= total; seq++) if (!have.has(seq)) missingParts.push(seq);
  const eightBit = sorted.some((p) => p.data !== null && p.text === null);
  const data = eightBit ? Buffer.concat(sorted.map((p) => p.data ?? new Uint8Array(0))) : null;
  const fingerprint = createHash('sha256').update(JSON.stringify([anchor.line, sorted.map(partIdentity)])).digest('hex');
  return {
    line: anchor.line,
    originator: anchor.originator,
    encoding: sorted[0]?.encoding ?? anchor.encoding,
    text: sorted.map((p) => p.text ?? '').join(''),
    data: data === null ? null : new Uint8Array(data),
    ports: sorted.find((p) => p.ports !== null)?.ports ?? null,
    reference,
    total,
    receivedParts: sorted.length,
    partial: missingParts.length > 0,
    missingParts,
    sentAt: sorted[0]?.sentAt ?? null,
    firstReceivedAtMs: Math.min(...sorted.map((p) => p.receivedAtMs)),
    fingerprint,
  };
}

/** What makes a part itself: its whole TPDU (not the SMSC field), or, without it, its decoded content. */
function partIdentity(p: StoredPart): string {
  const tpdu = p.pdu === null ? undefined : tpduHexOf(p.pdu);
  return tpdu === undefined ? contentIdentity(p) : `${p.seq}:${tpdu}`;
}

function contentIdentity(p: StoredPart): string {
  const data = p.data === null ? null : Buffer.from(p.data).toString('hex');
  return JSON.stringify([p.seq, p.encoding, p.text, data, p.ports, p.sentAt]);
}

/** Same TPDU when both have theirs; otherwise (a part stored without it) the same decoded content. */
function samePart(a: StoredPart, b: StoredPart): boolean {
  const ta = a.pdu === null ? undefined : tpduHexOf(a.pdu);
  const tb = b.pdu === null ? undefined : tpduHexOf(b.pdu);
  return ta !== undefined && tb !== undefined ? ta === tb : contentIdentity(a) === contentIdentity(b);
}

function messagePorts(ports: Ports | null | undefined): MessagePorts | null {
  return ports ? { source: ports.source, destination: ports.destination } : null;
}
