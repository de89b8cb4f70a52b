import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NumbersRepository, openDatabase } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('numbers repository: records by id served from memory', () => {
  const tempDir = useTempDir();
  const bind = (repo: NumbersRepository, line: string, phone: string, id: string) =>
    repo.bindLine({ phoneNumber: phone, lineId: line, newId: id, newSecret: `secret-${id}`, now: '2026-12-04T00:00:00.000Z' });

  it('answers every write at once, through any repository on the same connection', () => {
    const db = openDatabase(join(tempDir(), 'n.db'));
    const a = new NumbersRepository(db);
    const b = new NumbersRepository(db);
    bind(a, 'l1', '+15550000001', 'num_1');
    expect(b.get('num_1')?.label).toBeNull(); // read once: now held in memory
    a.updateSettings('num_1', { label: 'support', overageEnabled: true }, '2026-12-04T00:00:01.000Z');
    expect(b.get('num_1')).toMatchObject({ label: 'support', overageEnabled: true });
    b.setWebhookSecret('num_1', 'rotated', '2026-12-04T00:00:02.000Z');
    expect(a.get('num_1')?.webhookSecret).toBe('rotated');
    // Its SIM now shows up in another line, and l1 carries another SIM.
    bind(a, 'l2', '+15550000001', 'unused');
    expect(b.get('num_1')).toMatchObject({ lineId: 'l2', status: 'active' });
    bind(b, 'l2', '+15550000002', 'num_2');
    expect(a.get('num_1')).toMatchObject({ lineId: null, status: 'inactive' });
    expect(a.get('num_missing')).toBeUndefined();
    db.close();
  });

  it('keeps nothing read inside a transaction that is rolled back', () => {
    const db = openDatabase(join(tempDir(), 'n.db'));
    const repo = new NumbersRepository(db);
    bind(repo, 'l1', '+15550000001', 'num_1');
    expect(() =>
      db.transaction(() => {
        repo.updateSettings('num_1', { label: 'never committed' }, '2026-12-04T00:00:01.000Z');
        expect(repo.get('num_1')?.label).toBe('never committed');
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    expect(repo.get('num_1')?.label).toBeNull();
    db.close();
  });

  it('hands out copies: a caller changing its record changes nothing for the next', () => {
    const db = openDatabase(join(tempDir(), 'n.db'));
    const repo = new NumbersRepository(db);
    bind(repo, 'l1', '+15550000001', 'num_1');
    const first = repo.get('num_1')!;
    first.label = 'scribbled';
    expect(repo.get('num_1')?.label).toBeNull();
    db.close();
  });
});
