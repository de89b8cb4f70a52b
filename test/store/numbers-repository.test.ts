import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.ts';
import { NumbersCache, NumbersRepository, SecretBox } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const NOW = '2026-12-04T00:00:00.000Z';

describeOnEachDialect('numbers repository', (open) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await open();
  });
  afterEach(() => t.close());

  const bind = (repo: NumbersRepository, line: string, phone: string, id: string) =>
    repo.bindLine({ phoneNumber: phone, lineId: line, newId: id, newSecret: `secret-${id}`, now: NOW });

  async function loaded(): Promise<NumbersRepository> {
    const repo = new NumbersRepository(t.store.db);
    await repo.load();
    return repo;
  }

  it('refuses get() before load(), then answers from memory', async () => {
    const repo = new NumbersRepository(t.store.db);
    expect(() => repo.get('num_1')).toThrow(StoreError);
    await repo.load();
    expect(repo.get('num_1')).toBeUndefined();
  });

  it('answers every write at once, through any repository on the same store', async () => {
    const a = await loaded();
    const b = new NumbersRepository(t.store.db);
    await bind(a, 'l1', '+15550000001', 'num_1');
    expect(b.get('num_1')).toMatchObject({ phoneNumber: '+15550000001', lineId: 'l1', label: null, status: 'active', webhookSecret: 'secret-num_1' });
    await a.updateSettings('num_1', { label: 'support', overageEnabled: true }, '2026-12-04T00:00:01.000Z');
    expect(b.get('num_1')).toMatchObject({ label: 'support', overageEnabled: true, webhookTimeoutMs: 10_000 });
    await b.setWebhookSecret('num_1', 'rotated', '2026-12-04T00:00:02.000Z');
    expect(a.get('num_1')?.webhookSecret).toBe('rotated');
    // Its SIM now shows up in another line, and l1 carries another SIM.
    await bind(a, 'l2', '+15550000001', 'unused');
    expect(b.get('num_1')).toMatchObject({ lineId: 'l2', status: 'active', label: 'support', webhookSecret: 'rotated' });
    expect(b.get('unused')).toBeUndefined();
    await bind(b, 'l2', '+15550000002', 'num_2');
    expect(a.get('num_1')).toMatchObject({ lineId: null, status: 'inactive' });
    expect(a.get('num_missing')).toBeUndefined();
    expect(await a.getByLine('l2')).toMatchObject({ id: 'num_2' });
    expect(await a.getByPhone('+15550000001')).toMatchObject({ id: 'num_1', lineId: null });
    expect((await a.list()).map((n) => n.id)).toEqual(['num_1', 'num_2']);
    expect(await a.updateSettings('num_missing', { label: 'x' }, NOW)).toBeUndefined();
  });

  it('changes only what a settings patch names', async () => {
    const repo = await loaded();
    await bind(repo, 'l1', '+15550000001', 'num_1');
    await repo.updateSettings('num_1', { label: 'sales', webhookUrl: 'https://a.example/h', webhookTimeoutMs: 5000 }, NOW);
    const after = await repo.updateSettings('num_1', { overageEnabled: true }, NOW);
    expect(after).toMatchObject({ label: 'sales', webhookUrl: 'https://a.example/h', webhookTimeoutMs: 5000, overageEnabled: true });
    expect(await repo.updateSettings('num_1', { webhookUrl: null }, NOW)).toMatchObject({ label: 'sales', webhookUrl: null });
  });

  it('hands out copies: a caller changing its record changes nothing for the next', async () => {
    const repo = await loaded();
    await bind(repo, 'l1', '+15550000001', 'num_1');
    const first = repo.get('num_1')!;
    first.label = 'scribbled';
    expect(repo.get('num_1')?.label).toBeNull();
  });

  it('refuses writes through a repository built on a transaction (its cache would run ahead of the commit)', async () => {
    const repo = await loaded();
    await bind(repo, 'l1', '+15550000001', 'num_1');
    await expect(t.store.tx((tx) => new NumbersRepository(tx).updateSettings('num_1', { label: 'x' }, NOW))).rejects.toThrow(StoreError);
    expect(repo.get('num_1')?.label).toBeNull();
  });

  it('reads inside a transaction through on(tx), sharing the cache', async () => {
    const repo = await loaded();
    await bind(repo, 'l1', '+15550000001', 'num_1');
    const seen = await t.store.tx(async (tx) => {
      const inTx = repo.on(tx);
      return { cached: inTx.get('num_1'), byLine: await inTx.getByLine('l1') };
    });
    expect(seen.cached).toMatchObject({ id: 'num_1', webhookSecret: 'secret-num_1' });
    expect(seen.byLine).toEqual(seen.cached);
  });

  it("sees another node's writes only after invalidate()", async () => {
    const here = await loaded();
    // Another node: a cache of its own over the same database.
    const elsewhere = new NumbersRepository(t.store.db, new SecretBox(), new NumbersCache());
    await elsewhere.load();
    await bind(elsewhere, 'l1', '+15550000001', 'num_1');
    expect(here.get('num_1')).toBeUndefined();
    await here.invalidate('num_1');
    expect(here.get('num_1')).toMatchObject({ lineId: 'l1' });
    await elsewhere.updateSettings('num_1', { label: 'renamed' }, NOW);
    await bind(elsewhere, 'l2', '+15550000002', 'num_2');
    expect(here.get('num_1')?.label).toBeNull();
    await here.invalidate();
    expect(here.get('num_1')?.label).toBe('renamed');
    expect(here.get('num_2')).toMatchObject({ lineId: 'l2' });
  });

  it('binds each line to one number, and each number once, when binds race (on PostgreSQL, in parallel)', async () => {
    const a = await loaded();
    for (let i = 0; i < 5; i++) {
      await Promise.all([
        bind(a, `l${i}`, `+1555000${i}001`, `num_${i}a`),
        bind(a, `l${i}`, `+1555000${i}002`, `num_${i}b`),
        bind(a, `m${i}`, `+1555000${i}001`, `num_${i}x`),
        bind(a, `n${i}`, `+1555000${i}003`, `num_${i}c`),
        bind(a, `o${i}`, `+1555000${i}003`, `num_${i}d`),
      ]);
    }
    const rows = await a.list();
    expect(rows).toHaveLength(15);
    const lines = rows.flatMap((n) => (n.lineId === null ? [] : [n.lineId]));
    expect(new Set(lines).size).toBe(lines.length);
    // The cache agrees with the database on every number.
    for (const n of rows) expect(a.get(n.id)).toEqual(n);
  });

  it('seals plaintext secrets once a key is set, and refuses to start with the wrong key', async () => {
    const plain = await loaded();
    await bind(plain, 'l1', '+15550000001', 'num_1');
    await bind(plain, 'l2', '+15550000002', 'num_2');
    const key = randomBytes(32);
    const sealing = new NumbersRepository(t.store.db, new SecretBox(key), new NumbersCache());
    // Two nodes starting together: each secret is sealed exactly once.
    const counts = await Promise.all([sealing.sealSecrets(), sealing.sealSecrets()]);
    expect(counts[0]! + counts[1]!).toBe(2);
    expect(await sealing.sealSecrets()).toBe(0);
    await sealing.load();
    expect(sealing.get('num_1')?.webhookSecret).toBe('secret-num_1');
    const stored = await t.store.db.selectFrom('numbers').select('webhook_secret').execute();
    for (const row of stored) expect(SecretBox.isSealed(row.webhook_secret)).toBe(true);
    const wrong = new NumbersRepository(t.store.db, new SecretBox(randomBytes(32)), new NumbersCache());
    await expect(wrong.sealSecrets()).rejects.toThrow();
  });
});
