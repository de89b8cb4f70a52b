import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiKeyService, canAccessNumber, hashApiKey } from '../../src/auth/index.ts';
import type { Clock } from '../../src/clock/index.ts';
import { NumberService } from '../../src/numbers/index.ts';
import { ApiKeysRepository, NumbersRepository, openDatabase } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('API keys', () => {
  const tempDir = useTempDir();

  function setup() {
    const db = openDatabase(join(tempDir(), 'k.db'));
    let t = Date.parse('2026-11-01T00:00:00Z');
    const clock: Clock = { now: () => t };
    const numbersRepo = new NumbersRepository(db);
    const numbers = new NumberService(numbersRepo, clock);
    const a = numbers.lineFound('line-a', '+15550000001');
    const b = numbers.lineFound('line-b', '+15550000002');
    const keys = new ApiKeyService(new ApiKeysRepository(db), numbersRepo, clock);
    return { db, keys, a, b, advance: (ms: number) => (t += ms) };
  }

  it('makes agp_ + 32 random bytes in base62, stores only the SHA-256 hash', () => {
    const { db, keys } = setup();
    const created = keys.create({ name: 'agent' });
    expect(created.key).toMatch(/^agp_[0-9A-Za-z]{40,43}$/);
    expect(created.id).toMatch(/^key_/);
    const row = db.prepare('SELECT * FROM api_keys').get() as Record<string, unknown>;
    expect(Object.values(row).some((v) => typeof v === 'string' && v.includes(created.key))).toBe(false);
    expect(row.key_hash).toEqual(hashApiKey(created.key));
    expect(keys.list()[0]).not.toHaveProperty('key');
    expect(keys.create({}).key).not.toBe(created.key);
  });

  it('authenticates the key it made and nothing else', () => {
    const { keys } = setup();
    const { key, id } = keys.create({});
    expect(keys.authenticate(key)).toEqual({ keyId: id, numberIds: null });
    expect(keys.authenticate(`${key}x`)).toBeUndefined();
    expect(keys.authenticate(key.replace('agp_', 'agx_'))).toBeUndefined();
    expect(keys.authenticate('')).toBeUndefined();
  });

  it('revocation takes effect on the next authentication', () => {
    const { keys } = setup();
    const { key, id } = keys.create({});
    expect(keys.authenticate(key)).toBeDefined();
    expect(keys.revoke(id).revokedAt).not.toBeNull();
    expect(keys.authenticate(key)).toBeUndefined();
    expect(() => keys.revoke('key_missing')).toThrow(/No API key/);
  });

  it('reads a key from the database at most every 5 s; a revocation by another process lands within that', () => {
    const { db, keys, advance } = setup();
    const { key, id } = keys.create({});
    expect(keys.authenticate(key)).toBeDefined();
    new ApiKeysRepository(db).revoke(id, '2026-11-01T00:00:01.000Z'); // as the CLI would, with the gateway down
    advance(4_000);
    expect(keys.authenticate(key)).toBeDefined();
    advance(1_000);
    expect(keys.authenticate(key)).toBeUndefined();
  });

  it('scopes a key to a list of numbers', () => {
    const { keys, a, b } = setup();
    const { key } = keys.create({ numberIds: [a.id] });
    const principal = keys.authenticate(key);
    expect(principal?.numberIds).toEqual([a.id]);
    expect(canAccessNumber(principal!, a.id)).toBe(true);
    expect(canAccessNumber(principal!, b.id)).toBe(false);
    expect(() => keys.create({ numberIds: ['num_nope'] })).toThrow(/numbers: no number has id "num_nope"/);
  });

  it('records last use, at most once a minute', () => {
    const { keys, advance } = setup();
    const { key, id } = keys.create({});
    keys.authenticate(key);
    const first = keys.list().find((k) => k.id === id)?.lastUsedAt;
    expect(first).toBe('2026-11-01T00:00:00.000Z');
    advance(10_000);
    keys.authenticate(key);
    expect(keys.list().find((k) => k.id === id)?.lastUsedAt).toBe(first);
    advance(60_000);
    keys.authenticate(key);
    expect(keys.list().find((k) => k.id === id)?.lastUsedAt).toBe('2026-11-01T00:01:10.000Z');
  });
});

describe('numbers', () => {
  const tempDir = useTempDir();

  it('keeps a number id when its SIM moves to another line, and releases a line given a new SIM', () => {
    const db = openDatabase(join(tempDir(), 'n.db'));
    const numbers = new NumberService(new NumbersRepository(db), { now: () => 0 });
    const first = numbers.lineFound('modem-1', '+15550000001');
    const moved = numbers.lineFound('modem-2', '+15550000001');
    expect(moved.id).toBe(first.id);
    expect(moved.lineId).toBe('modem-2');
    expect(moved.webhookSecret).toBe(first.webhookSecret);
    const other = numbers.lineFound('modem-2', '+15550000009');
    expect(other.id).not.toBe(first.id);
    expect(numbers.get(first.id)).toMatchObject({ lineId: null, status: 'inactive' });
  });

  it('applies config settings for the line at every start', () => {
    const db = openDatabase(join(tempDir(), 'n2.db'));
    const numbers = new NumberService(new NumbersRepository(db), { now: () => 0 }, [
      { line: 'l1', webhookUrl: 'https://agent.example/hook', webhookTimeoutMs: 5000, overage: true, label: 'Sales' },
    ]);
    expect(numbers.lineFound('l1', '+15550000001')).toMatchObject({
      webhookUrl: 'https://agent.example/hook',
      webhookTimeoutMs: 5000,
      overageEnabled: true,
      label: 'Sales',
    });
    expect(numbers.lineFound('l2', '+15550000002')).toMatchObject({ webhookUrl: null, webhookTimeoutMs: 10_000, overageEnabled: false });
  });

  it('rotates the webhook secret and validates webhook URLs', () => {
    const db = openDatabase(join(tempDir(), 'n3.db'));
    const numbers = new NumberService(new NumbersRepository(db), { now: () => 0 });
    const n = numbers.lineFound('l1', '+15550000001');
    expect(n.webhookSecret).toMatch(/^whsec_[0-9A-Za-z]{40,}$/);
    expect(numbers.rotateWebhookSecret(n.id).webhookSecret).not.toBe(n.webhookSecret);
    expect(() => numbers.setWebhook(n.id, { url: 'ftp://x' })).toThrow(/url: must use http or https/);
    expect(() => numbers.setWebhook(n.id, { url: 'not a url' })).toThrow(/url: must be an absolute/);
    expect(numbers.setWebhook(n.id, { url: 'http://127.0.0.1:9/x', timeoutMs: 2500 })).toMatchObject({
      webhookUrl: 'http://127.0.0.1:9/x',
      webhookTimeoutMs: 2500,
    });
  });
});
