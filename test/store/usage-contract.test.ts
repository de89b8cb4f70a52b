import { afterEach, beforeEach, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { QuotaExceededError } from '../../src/errors/index.ts';
import { UsageLedger } from '../../src/metering/index.ts';
import { UsageRepository, type Database, type NumberRecord, type SqlStore } from '../../src/store/index.ts';
import { describeOnEachDialect, otherNode, type TestStore } from '../helpers/store-dialects.ts';

const NOV = Date.parse('2026-11-30T23:59:59Z');

function numberRecord(overageEnabled: boolean): NumberRecord {
  const at = new Date(0).toISOString();
  return {
    id: 'num_1',
    phoneNumber: '+15550000001',
    lineId: 'l1',
    label: null,
    webhookUrl: null,
    webhookSecret: 'whsec_x',
    webhookTimeoutMs: 5000,
    overageEnabled,
    status: 'active',
    createdAt: at,
    updatedAt: at,
  };
}

describeOnEachDialect('UsageRepository', (open) => {
  let t: TestStore;
  /** A second store on the same database: another node (PostgreSQL) or the same handle (SQLite). */
  let other: SqlStore<Database>;
  let closeOther: () => Promise<void>;

  beforeEach(async () => {
    t = await open();
    ({ store: other, close: closeOther } = await otherNode(t));
    const at = new Date(0).toISOString();
    await t.store.db
      .insertInto('numbers')
      .values({ id: 'num_1', phone_number: '+15550000001', line_id: 'l1', label: null, webhook_url: null, webhook_secret: 'whsec_x', created_at: at, updated_at: at })
      .execute();
  });
  afterEach(async () => {
    await closeOther();
    await t.close();
  });

  it('adds units per (number, month, kind) and per (key, month, kind), months apart', async () => {
    const repo = new UsageRepository(t.store.db);
    await repo.add('num_1', '2026-11', 'voice_minutes', 1.5);
    await repo.add('num_1', '2026-11', 'voice_minutes', 2);
    await repo.add('num_1', '2026-12', 'voice_minutes', 4);
    await repo.addForKey('key_1', '2026-11', 'chat_prompt_tokens', 10);
    await repo.addForKey('key_1', '2026-11', 'chat_prompt_tokens', 5);
    expect(await repo.forNumber('num_1', '2026-11')).toEqual({ voice_minutes: 3.5 });
    expect(await repo.forNumber('num_1', '2026-12')).toEqual({ voice_minutes: 4 });
    expect(await repo.forKey('key_1', '2026-11')).toEqual({ chat_prompt_tokens: 15 });
    expect(await repo.forKey('key_2', '2026-11')).toEqual({});
  });

  it('loses no units when two nodes add to the same counters at once', async () => {
    const a = new UsageRepository(t.store.db);
    const b = new UsageRepository(other.db);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        Promise.all([
          (i % 2 ? a : b).add('num_1', '2026-11', 'sms_segments_in', 1),
          (i % 2 ? b : a).addForKey('key_1', '2026-11', 'ai_speech_minutes', 0.5),
        ]),
      ),
    );
    expect(await a.forNumber('num_1', '2026-11')).toEqual({ sms_segments_in: 50 });
    expect(await b.forKey('key_1', '2026-11')).toEqual({ ai_speech_minutes: 25 });
  });

  it('adds within a limit over several kinds, the first units of a month and later ones alike', async () => {
    const repo = new UsageRepository(t.store.db);
    const limit = { kinds: ['out', 'in'], max: 10 };
    await repo.add('num_1', '2026-11', 'in', 4);
    expect(await repo.addWithinLimit('num_1', '2026-11', 'out', 7, limit)).toBe(false);
    expect(await repo.addWithinLimit('num_1', '2026-11', 'out', 5, limit)).toBe(true);
    expect(await repo.addWithinLimit('num_1', '2026-11', 'out', 2, limit)).toBe(false);
    expect(await repo.addWithinLimit('num_1', '2026-11', 'out', 1, limit)).toBe(true);
    expect(await repo.addWithinLimit('num_1', '2026-11', 'out', 1, limit)).toBe(false);
    expect(await repo.forNumber('num_1', '2026-11')).toEqual({ in: 4, out: 6 });
  });

  it('never lets concurrent consumers on two nodes spend past the quota', async () => {
    const ledgers = [t.store, other].map((s) => new UsageLedger(new UsageRepository(s.db), validateConfig({}).metering));
    const included = validateConfig({}).metering.includedSegments;
    const n = numberRecord(false);
    await new UsageRepository(t.store.db).add('num_1', '2026-11', 'sms_segments_in', included - 30);
    // 80 charges of one segment for the last 30: exactly 30 go through, wherever they run.
    const results = await Promise.allSettled(
      Array.from({ length: 80 }, (_, i) => (ledgers[i % 2] as UsageLedger).chargeOutbound(n, 1, NOV)),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.length - refused.length).toBe(30);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(QuotaExceededError);
    const report = await (ledgers[0] as UsageLedger).report(n, '2026-11');
    expect(report.sms).toMatchObject({ used: included, outbound: 30 });
  });

  it('meters per calendar month (UTC) and prices overage only where it is on', async () => {
    const ledger = new UsageLedger(new UsageRepository(t.store.db), validateConfig({}).metering);
    const n = numberRecord(false);
    await ledger.chargeOutbound(n, 1990, NOV);
    await ledger.recordInbound(n.id, 9, NOV);
    await expect(ledger.chargeOutbound(n, 2, NOV)).rejects.toThrow(/needs 2 segment\(s\) but only 1 of the 2000 included/);
    await ledger.chargeOutbound(n, 1, NOV);
    await ledger.recordInbound(n.id, 5, NOV);
    expect(await ledger.report(n, '2026-11')).toMatchObject({ sms: { used: 2005, overage: 5, overageCost: 0 }, total: 29 });
    await ledger.chargeOutbound(n, 2, Date.parse('2026-12-01T00:00:00Z'));
    expect((await ledger.report(n, '2026-12')).sms).toMatchObject({ used: 2, outbound: 2 });
    const withOverage = numberRecord(true);
    await ledger.chargeOutbound(withOverage, 100, NOV);
    expect(await ledger.report(withOverage, '2026-11')).toMatchObject({ sms: { overage: 105, overageCost: 1.58 }, total: 30.58 });
    await ledger.recordVoiceMinutes(n.id, 310, NOV);
    expect((await ledger.report(withOverage, '2026-11')).voice).toMatchObject({ used: 310, overage: 10, overageCost: 0.2 });
  });

  it('charges on a transaction: a send that rolls back takes its segments back', async () => {
    const ledger = new UsageLedger(new UsageRepository(t.store.db), validateConfig({}).metering);
    const n = numberRecord(false);
    await expect(
      t.store.tx(async (tx) => {
        await ledger.on(tx).chargeOutbound(n, 3, NOV);
        throw new Error('send failed');
      }),
    ).rejects.toThrow('send failed');
    await t.store.tx((tx) => ledger.on(tx).chargeOutbound(n, 2, NOV));
    expect((await ledger.report(n, '2026-11')).sms).toMatchObject({ outbound: 2 });
  });
});
