import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, OptOutsRepository } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('opt_outs and opt_out_audit (migration 018, a real SQLite file)', () => {
  const tempDir = useTempDir();

  function open() {
    const db = openDatabase(join(tempDir(), 'agentphone.db'));
    db.prepare(`INSERT INTO numbers (id, phone_number, webhook_secret, created_at, updated_at) VALUES ('num_1', '+15550000001', 's', 'now', 'now')`).run();
    return { db, repo: new OptOutsRepository(db) };
  }

  it("the send path's check is one primary-key search, no scan", () => {
    const { db } = open();
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT state FROM opt_outs WHERE number_id = ? AND contact = ?').all('num_1', '+1') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail)).toEqual([expect.stringMatching(/^SEARCH opt_outs USING PRIMARY KEY \(number_id=\? AND contact=\?\)$/)]);
    db.close();
  });

  it('keeps one state per (number, contact) and every change in the audit, oldest first', () => {
    const { db, repo } = open();
    const base = { numberId: 'num_1', contact: '+15557654321', note: null };
    repo.record({ ...base, state: 'opted_out', source: 'keyword', keyword: 'STOP', actor: 'contact', at: '2026-01-01T00:00:00.000Z' });
    repo.record({ ...base, state: 'opted_in', source: 'admin', keyword: null, actor: 'cli:ops', at: '2026-01-02T00:00:00.000Z' });
    expect(repo.get('num_1', '+15557654321')).toEqual({ numberId: 'num_1', contact: '+15557654321', state: 'opted_in', source: 'admin', keyword: null, actor: 'cli:ops', updatedAt: '2026-01-02T00:00:00.000Z' });
    expect(repo.list({ state: 'opted_out', limit: 10 })).toEqual([]);
    expect(repo.list({ numberId: 'num_1', limit: 10 })).toHaveLength(1);
    expect(repo.audit({ numberId: 'num_1', limit: 10 }).map((a) => [a.action, a.source, a.keyword, a.actor])).toEqual([
      ['opt_out', 'keyword', 'STOP', 'contact'],
      ['opt_in', 'admin', null, 'cli:ops'],
    ]);
    expect(repo.audit({ contact: '+1999', limit: 10 })).toEqual([]);
    expect(() => repo.record({ ...base, numberId: 'num_missing', state: 'opted_out', source: 'admin', keyword: null, actor: 'x', at: 'now' })).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
