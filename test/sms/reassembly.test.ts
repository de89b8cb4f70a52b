import type { Kysely } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import {
  Reassembler,
  SqlPartStore,
  decodePdu,
  encodeDeliver,
  inboundPart,
  type InboundPart,
  type ReassembledMessage,
} from '../../src/sms/index.ts';
import type { Database } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const HOUR = 60 * 60 * 1000;
const when = new Date('2024-03-01T13:05:09Z');

class FakeClock {
  constructor(public ms = Date.UTC(2024, 2, 1)) {}
  now(): number {
    return this.ms;
  }
}

/** Parts of a real concatenated DELIVER, decoded as the receive path would. */
function partsOf(text: string, reference: number, originator = '+15551230000', line = 'line-1'): InboundPart[] {
  return encodeDeliver({ originator, text, timestamp: when, reference }).map((hex) => {
    const d = decodePdu(hex, { direction: 'incoming' });
    if (d.type !== 'deliver') throw new Error('expected deliver');
    return inboundPart(line, d, hex);
  });
}

const long = (c: string): string => `${c.repeat(200)}|${c.repeat(200)}`;

describeOnEachDialect('Reassembler', (open) => {
  const stores: TestStore[] = [];
  afterEach(async () => {
    for (const t of stores.splice(0)) await t.close();
  });

  async function setup(existing?: TestStore) {
    const t = existing ?? (await open());
    if (!existing) stores.push(t);
    const clock = new FakeClock();
    const reassembler = new Reassembler({ store: new SqlPartStore(t.store), clock });
    const delivered: ReassembledMessage[] = [];
    const deliver = (m: ReassembledMessage, _tx: Kysely<Database>): void => {
      delivered.push(m);
    };
    return { t, clock, reassembler, delivered, deliver };
  }

  it('delivers a single-part message at once', async () => {
    const t = await setup();
    const [part] = partsOf('hello', 1);
    expect(await t.reassembler.accept(part as InboundPart, t.deliver)).toBe('delivered');
    expect(t.delivered).toMatchObject([{ text: 'hello', partial: false, total: 1, reference: null }]);
  });

  it('joins parts that arrive out of order, once', async () => {
    const t = await setup();
    const parts = partsOf(long('a'), 7);
    expect(parts).toHaveLength(3);
    expect(await t.reassembler.accept(parts[2] as InboundPart, t.deliver)).toBe('stored');
    expect(await t.reassembler.accept(parts[0] as InboundPart, t.deliver)).toBe('stored');
    expect(t.delivered).toEqual([]);
    expect(await t.reassembler.accept(parts[1] as InboundPart, t.deliver)).toBe('delivered');
    expect(t.delivered).toHaveLength(1);
    expect(t.delivered[0]).toMatchObject({ text: long('a'), partial: false, missingParts: [], total: 3, receivedParts: 3, reference: 7 });
  });

  it('ignores duplicate parts, before and after completion', async () => {
    const t = await setup();
    const parts = partsOf(long('b'), 9);
    expect(await t.reassembler.accept(parts[0] as InboundPart, t.deliver)).toBe('stored');
    expect(await t.reassembler.accept(parts[0] as InboundPart, t.deliver)).toBe('duplicate');
    await t.reassembler.accept(parts[1] as InboundPart, t.deliver);
    await t.reassembler.accept(parts[2] as InboundPart, t.deliver);
    expect(await t.reassembler.accept(parts[1] as InboundPart, t.deliver)).toBe('duplicate');
    expect(t.delivered).toHaveLength(1);
  });

  it('starts a new set when a reference is reused with a different total', async () => {
    const t = await setup();
    const three = partsOf(long('c'), 5);
    const two = partsOf('d'.repeat(200), 5);
    await t.reassembler.accept(three[0] as InboundPart, t.deliver);
    await t.reassembler.accept(two[0] as InboundPart, t.deliver);
    expect(await t.reassembler.accept(two[1] as InboundPart, t.deliver)).toBe('delivered');
    expect(t.delivered.map((m) => m.text)).toEqual(['d'.repeat(200)]);
  });

  it('starts a new set when a reference is reused with the same total and new content', async () => {
    const t = await setup();
    for (const text of ['e'.repeat(200), 'f'.repeat(200)]) {
      for (const p of partsOf(text, 3)) await t.reassembler.accept(p, t.deliver);
    }
    expect(t.delivered.map((m) => m.text)).toEqual(['e'.repeat(200), 'f'.repeat(200)]);
  });

  it('keeps sets apart by line and originator', async () => {
    const t = await setup();
    const a = partsOf('g'.repeat(200), 1, '+1111', 'line-1');
    const b = partsOf('h'.repeat(200), 1, '+2222', 'line-1');
    const c = partsOf('i'.repeat(200), 1, '+1111', 'line-2');
    for (const p of [a[0], b[0], c[0], c[1], b[1], a[1]]) await t.reassembler.accept(p as InboundPart, t.deliver);
    expect(t.delivered.map((m) => [m.line, m.originator, m.text[0]])).toEqual([
      ['line-2', '+1111', 'i'],
      ['line-1', '+2222', 'h'],
      ['line-1', '+1111', 'g'],
    ]);
  });

  it('loses nothing across a restart in the middle of a set', async () => {
    const first = await setup();
    const parts = partsOf(long('j'), 11);
    await first.reassembler.accept(parts[0] as InboundPart, first.deliver);
    await first.reassembler.accept(parts[2] as InboundPart, first.deliver);

    // A new process: nothing in memory carries over, only the store.
    const second = await setup(first.t);
    expect(await second.reassembler.accept(parts[1] as InboundPart, second.deliver)).toBe('delivered');
    expect(second.delivered[0]?.text).toBe(long('j'));
  });

  it('rolls the part back when delivery fails, so it stays unacknowledged and a retry completes the set', async () => {
    const t = await setup();
    const parts = partsOf('k'.repeat(200), 4);
    await t.reassembler.accept(parts[0] as InboundPart, t.deliver);
    const failing = (): void => {
      throw new Error('disk full');
    };
    await expect(t.reassembler.accept(parts[1] as InboundPart, failing)).rejects.toThrow('disk full');
    expect(await t.reassembler.accept(parts[1] as InboundPart, t.deliver)).toBe('delivered');
    expect(t.delivered[0]?.text).toBe('k'.repeat(200));
  });

  it('delivers what arrived, flagged partial with the missing part numbers, after 24 h', async () => {
    const t = await setup();
    const parts = partsOf(long('m'), 12);
    await t.reassembler.accept(parts[0] as InboundPart, t.deliver);
    await t.reassembler.accept(parts[2] as InboundPart, t.deliver);
    t.clock.ms += 24 * HOUR - 1;
    expect(await t.reassembler.expire(t.deliver)).toBe(0);
    t.clock.ms += 1;
    expect(await t.reassembler.expire(t.deliver)).toBe(1);
    expect(t.delivered[0]).toMatchObject({ partial: true, missingParts: [2], receivedParts: 2, total: 3, reference: 12 });
    expect(t.delivered[0]?.text).toBe((parts[0]?.text ?? '') + (parts[2]?.text ?? ''));
    expect(await t.reassembler.expire(t.deliver)).toBe(0);
  });

  it('honours a configured timeout', async () => {
    const t = await setup();
    const r = new Reassembler({ store: new SqlPartStore(t.t.store), clock: t.clock, timeoutMs: 60_000 });
    await r.accept(partsOf('n'.repeat(200), 13)[0] as InboundPart, t.deliver);
    t.clock.ms += 60_000;
    expect(await r.expire(t.deliver)).toBe(1);
  });

  it('joins 8-bit payloads', async () => {
    const t = await setup();
    const data = Uint8Array.from({ length: 250 }, (_, i) => i);
    const hexes = encodeDeliver({ originator: '+1', data, timestamp: when, reference: 2 });
    for (const hex of hexes) {
      const d = decodePdu(hex);
      if (d.type === 'deliver') await t.reassembler.accept(inboundPart('l', d), t.deliver);
    }
    expect(t.delivered[0]?.data).toEqual(data);
  });

  it('takes a part that differs from a delivered one only in its PID as another message, and the same TPDU as a duplicate', async () => {
    const t = await setup();
    const decode = (hex: string): InboundPart => {
      const d = decodePdu(hex, { direction: 'incoming' });
      if (d.type !== 'deliver') throw new Error('expected deliver');
      return inboundPart('line-1', d, hex);
    };
    const text = long('p');
    const first = encodeDeliver({ originator: '+15551230000', text, timestamp: when, reference: 40 });
    const otherPid = encodeDeliver({ originator: '+15551230000', text, timestamp: when, reference: 40, pid: 0x01 });
    for (const hex of first) await t.reassembler.accept(decode(hex), t.deliver);
    expect(t.delivered).toHaveLength(1);
    // Same originator, reference, part number, text and second: another TPDU all the same.
    expect(await t.reassembler.accept(decode(otherPid[0] as string), t.deliver)).toBe('stored');
    expect(await t.reassembler.accept(decode(first[0] as string), t.deliver)).toBe('duplicate');
    for (const hex of otherPid.slice(1)) await t.reassembler.accept(decode(hex), t.deliver);
    expect(t.delivered).toHaveLength(2);
    expect(t.delivered[1]?.fingerprint).not.toBe(t.delivered[0]?.fingerprint);
  });

  it('gives a message read twice the same fingerprint, and one differing in any TPDU octet another', async () => {
    const t = await setup();
    const hex = encodeDeliver({ originator: '+15551230000', text: 'hi', timestamp: when })[0] as string;
    const again = hex.replace(/^00/, '07911326040000F0'); // the same TPDU through another SMSC field
    const otherDcs = encodeDeliver({ originator: '+15551230000', text: 'hi', timestamp: when, messageClass: 1 })[0] as string;
    for (const h of [hex, again, otherDcs]) {
      const d = decodePdu(h, { direction: 'incoming' });
      if (d.type === 'deliver') await t.reassembler.accept(inboundPart('line-1', d, h), t.deliver);
    }
    const [a, b, c] = t.delivered.map((m) => m.fingerprint);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('keeps the ports of a port-addressed set delivered partial after the timeout', async () => {
    const t = await setup();
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const hexes = encodeDeliver({ originator: '+1', data, ports: { destination: 5000, source: 6000, bits: 16 }, timestamp: when, reference: 3, maxParts: 10 });
    for (const hex of hexes.slice(1)) {
      const d = decodePdu(hex, { direction: 'incoming' });
      if (d.type === 'deliver') await t.reassembler.accept(inboundPart('l', d, hex), t.deliver);
    }
    t.clock.ms += 24 * HOUR;
    expect(await t.reassembler.expire(t.deliver)).toBe(1);
    expect(t.delivered[0]).toMatchObject({ partial: true, missingParts: [1], ports: { source: 6000, destination: 5000 } });
  });

  it('delivers a set once when its parts are accepted at the same time, and stores every part', async () => {
    const t = await setup();
    const parts = partsOf(long('q'), 21);
    const outcomes = await Promise.all(parts.map((p) => t.reassembler.accept(p, t.deliver)));
    expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'stored')).toHaveLength(parts.length - 1);
    expect(t.delivered.map((m) => m.text)).toEqual([long('q')]);
  });

  it('delivers an expired set once when two processes expire it at the same time', async () => {
    const a = await setup();
    const b = await setup(a.t);
    const parts = partsOf(long('r'), 22);
    await a.reassembler.accept(parts[0] as InboundPart, a.deliver);
    a.clock.ms += 24 * HOUR;
    b.clock.ms += 24 * HOUR;
    const counts = await Promise.all([a.reassembler.expire(a.deliver), b.reassembler.expire(b.deliver)]);
    expect(counts[0] + counts[1]).toBe(1);
    expect([...a.delivered, ...b.delivered]).toHaveLength(1);
  });
});
