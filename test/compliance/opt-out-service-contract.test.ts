import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { OptOutService } from '../../src/compliance/index.ts';
import { validateConfig } from '../../src/config/index.ts';
import { NotFoundError, QuotaExceededError } from '../../src/errors/index.ts';
import { silentLogger } from '../../src/logging/index.ts';
import type { NumberRecord, NumbersRepository } from '../../src/store/index.ts';
import type { Database } from '../../src/store/sql/database.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const CONTACT = '+15557654321';
const NUMBER = { id: 'num_1', phoneNumber: '+15550000001', lineId: 'l1' } as NumberRecord;

describeOnEachDialect('opt-out service transactions', (open) => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-optout-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let t: TestStore;
  let service: OptOutService;
  /** What the auto-answer does on the receive transaction; a test makes it fail. */
  let reply: (tx: Kysely<Database>, text: string) => Promise<void>;
  let notified = 0;

  /** The receive path's transaction: the inbound message's own write, then the keyword. */
  const receive = (body: string) =>
    t.store.tx(async (tx) => {
      await tx.insertInto('usage_ledger').values({ number_id: NUMBER.id, month: '2026-01', kind: 'sms_segments_in', units: 1 }).onConflict((oc) => oc.columns(['number_id', 'month', 'kind']).doUpdateSet((eb) => ({ units: eb('usage_ledger.units', '+', 1) }))).execute();
      return service.onInbound(tx, NUMBER, CONTACT, body, 'msg_1');
    });

  beforeEach(async () => {
    t = await open();
    await t.store.db.insertInto('numbers').values({ id: NUMBER.id, phone_number: NUMBER.phoneNumber, webhook_secret: 's', created_at: 'now', updated_at: 'now' }).execute();
    notified = 0;
    reply = async (tx, text) => {
      await tx.insertInto('usage_ledger').values({ number_id: NUMBER.id, month: '2026-01', kind: `reply:${text}`, units: 1 }).execute();
    };
    const config = validateConfig({ dataDir: dir });
    service = new OptOutService({
      store: t.store,
      numbers: { get: async (id: string) => (id === NUMBER.id ? NUMBER : undefined) } as unknown as NumbersRepository,
      clock: { now: () => Date.UTC(2026, 0, 1) },
      logger: silentLogger(),
      config: config.compliance.optOut,
      numberSettings: [],
      autoReply: (tx, _number, _to, text) => reply(tx, text),
      webhooks: { notify: () => void notified++ },
    });
  });
  afterEach(() => t.close());

  const kinds = async () => (await t.store.db.selectFrom('usage_ledger').select(['kind', 'units']).orderBy('kind').execute()).map((r) => `${r.kind}=${r.units}`);
  const events = async () => (await t.store.db.selectFrom('outbox').select('event').execute()).map((r) => r.event);

  it('acts on STOP in the receive transaction: state, audit, event and the confirmation commit together; a second STOP does nothing', async () => {
    expect(await receive('Stop.')).toMatchObject({ kind: 'opt_out', keyword: 'STOP' });
    expect((await service.get(NUMBER.id, CONTACT))?.state).toBe('opted_out');
    expect(await events()).toEqual(['contact.opted_out']);
    expect((await kinds()).filter((k) => k.startsWith('reply:'))).toHaveLength(1);
    await expect(service.assertAllowed(t.store.db, NUMBER, CONTACT)).rejects.toMatchObject({ status: 403 });
    await expect(t.store.tx((tx) => service.assertAllowed(tx, NUMBER, CONTACT))).rejects.toMatchObject({ status: 403 });
    expect(await receive('STOP')).toBeNull();
    expect(await service.audit({ limit: 10 })).toHaveLength(1);
  });

  it('keeps the opt-out when the auto-answer fails: only the answer is rolled back (a savepoint)', async () => {
    reply = async (tx, text) => {
      await tx.insertInto('usage_ledger').values({ number_id: NUMBER.id, month: '2026-01', kind: `reply:${text}`, units: 1 }).execute();
      throw new QuotaExceededError('no segments left');
    };
    expect(await receive('STOP')).toMatchObject({ kind: 'opt_out' });
    expect((await service.get(NUMBER.id, CONTACT))?.state).toBe('opted_out');
    expect(await events()).toEqual(['contact.opted_out']);
    // The inbound message's own write stays; the answer's is gone.
    expect(await kinds()).toEqual(['sms_segments_in=1']);
  });

  it('rolls the keyword back with the inbound message when the receive transaction fails', async () => {
    await expect(
      t.store.tx(async (tx) => {
        await service.onInbound(tx, NUMBER, CONTACT, 'STOP', 'msg_1');
        throw new Error('receive failed later');
      }),
    ).rejects.toThrow('receive failed later');
    expect(await service.get(NUMBER.id, CONTACT)).toBeUndefined();
    expect(await events()).toEqual([]);
  });

  it('admin changes: one audit row and event for many racing opt-outs, 404 for an opt-in of a contact not opted out', async () => {
    await expect(service.adminOptIn(NUMBER.id, CONTACT, {})).rejects.toBeInstanceOf(NotFoundError);
    const states = await Promise.all(Array.from({ length: 10 }, (_, i) => service.adminOptOut(NUMBER.id, CONTACT, { actor: `admin${i}` })));
    expect(states.every((s) => s.state === 'opted_out')).toBe(true);
    expect(await service.audit({ numberId: NUMBER.id, limit: 100 })).toHaveLength(1);
    expect(await events()).toEqual(['contact.opted_out']);
    expect(notified).toBe(1);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => service.adminOptIn(NUMBER.id, CONTACT, { note: 'asked by phone' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof NotFoundError)).toBe(true);
    expect((await service.audit({ limit: 100 })).map((a) => a.action)).toEqual(['opt_out', 'opt_in']);
  });
});
