import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { OptOutsRepository } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

describeOnEachDialect('opt_outs and opt_out_audit (migration 018)', (open) => {
  let t: TestStore;
  let repo: OptOutsRepository;
  beforeEach(async () => {
    t = await open();
    await t.store.db.insertInto('numbers').values({ id: 'num_1', phone_number: '+15550000001', webhook_secret: 's', created_at: 'now', updated_at: 'now' }).execute();
    repo = new OptOutsRepository(t.store.db);
  });
  afterEach(() => t.close());

  it("the send path's check is one primary-key search, no scan", async () => {
    if (t.handle) {
      const plan = t.handle.prepare('EXPLAIN QUERY PLAN SELECT state FROM opt_outs WHERE number_id = ? AND contact = ?').all('num_1', '+1') as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail)).toEqual([expect.stringMatching(/^SEARCH opt_outs USING PRIMARY KEY \(number_id=\? AND contact=\?\)$/)]);
    } else {
      // An empty table is scanned whatever its indexes; with scans off the planner shows what it can use.
      const plan = await t.store.tx(async (tx) => {
        await sql`SET LOCAL enable_seqscan = off`.execute(tx);
        const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN SELECT state FROM opt_outs WHERE number_id = ${'num_1'} AND contact = ${'+1'}`.execute(tx);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan using opt_outs_pkey/);
    }
  });

  it('keeps one state per (number, contact) and every change in the audit, oldest first', async () => {
    const base = { numberId: 'num_1', contact: '+15557654321', note: null };
    expect(await repo.record({ ...base, state: 'opted_out', source: 'keyword', keyword: 'STOP', actor: 'contact', at: '2026-01-01T00:00:00.000Z' })).toBe(true);
    expect(await repo.record({ ...base, state: 'opted_in', source: 'admin', keyword: null, actor: 'cli:ops', at: '2026-01-02T00:00:00.000Z' })).toBe(true);
    expect(await repo.get('num_1', '+15557654321')).toEqual({ numberId: 'num_1', contact: '+15557654321', state: 'opted_in', source: 'admin', keyword: null, actor: 'cli:ops', updatedAt: '2026-01-02T00:00:00.000Z' });
    expect(await repo.list({ state: 'opted_out', limit: 10 })).toEqual([]);
    expect(await repo.list({ numberId: 'num_1', limit: 10 })).toHaveLength(1);
    expect((await repo.audit({ numberId: 'num_1', limit: 10 })).map((a) => [a.action, a.source, a.keyword, a.actor])).toEqual([
      ['opt_out', 'keyword', 'STOP', 'contact'],
      ['opt_in', 'admin', null, 'cli:ops'],
    ]);
    expect(await repo.audit({ contact: '+1999', limit: 10 })).toEqual([]);
    await expect(repo.record({ ...base, numberId: 'num_missing', state: 'opted_out', source: 'admin', keyword: null, actor: 'x', at: 'now' })).rejects.toThrow(/foreign key/i);
  });

  it('writes nothing for a change to the state the contact already has', async () => {
    const change = { numberId: 'num_1', contact: '+15557654321', note: null, state: 'opted_out' as const, source: 'admin' as const, keyword: null, actor: 'a', at: '2026-01-01T00:00:00.000Z' };
    expect(await repo.record(change)).toBe(true);
    expect(await repo.record({ ...change, actor: 'b', at: '2026-01-02T00:00:00.000Z' })).toBe(false);
    expect((await repo.get('num_1', change.contact))?.actor).toBe('a');
    expect(await repo.audit({ limit: 10 })).toHaveLength(1);
  });

  it('records exactly one change when many writers race to the same state (each in its own transaction)', async () => {
    const contact = '+15557654321';
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.store.tx((tx) => new OptOutsRepository(tx).record({ numberId: 'num_1', contact, note: null, state: 'opted_out', source: 'keyword', keyword: 'STOP', actor: `w${i}`, at: '2026-01-01T00:00:00.000Z' })),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await repo.audit({ numberId: 'num_1', contact, limit: 100 })).toHaveLength(1);
  });
});
