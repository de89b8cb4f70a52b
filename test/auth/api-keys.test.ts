import { afterEach, expect, it } from 'vitest';
import { ApiKeyService, canAccessNumber, hashApiKey } from '../../src/auth/index.ts';
import type { Clock } from '../../src/clock/index.ts';
import { NumberService } from '../../src/numbers/index.ts';
import { ApiKeysRepository, NumbersRepository } from '../../src/store/index.ts';
import { describeOnEachDialect, type OpenStore, type TestStore } from '../helpers/store-dialects.ts';

/** Stores opened by a test, closed after it. */
function storesOf(open: OpenStore) {
  const opened: TestStore[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
  });
  return async () => {
    const t = await open();
    opened.push(t);
    return t;
  };
}

async function numbersOn(t: TestStore, clock: Clock, settings: ConstructorParameters<typeof NumberService>[2] = []) {
  const repo = new NumbersRepository(t.store.db);
  await repo.load();
  return { repo, numbers: new NumberService(repo, clock, settings) };
}

describeOnEachDialect('API keys', (open) => {
  const store = storesOf(open);

  async function setup() {
    const t = await store();
    let now = Date.parse('2026-11-01T00:00:00Z');
    const clock: Clock = { now: () => now };
    const { repo, numbers } = await numbersOn(t, clock);
    const a = await numbers.lineFound('line-a', '+15550000001');
    const b = await numbers.lineFound('line-b', '+15550000002');
    const keys = new ApiKeyService(new ApiKeysRepository(t.store.db), repo, clock);
    return { t, keys, a, b, advance: (ms: number) => (now += ms) };
  }

  it('makes agp_ + 32 random bytes in base62, stores only the SHA-256 hash', async () => {
    const { t, keys } = await setup();
    const created = await keys.create({ name: 'agent' });
    expect(created.key).toMatch(/^agp_[0-9A-Za-z]{40,43}$/);
    expect(created.id).toMatch(/^key_/);
    const row = await t.store.db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
    expect(Object.values(row).some((v) => typeof v === 'string' && v.includes(created.key))).toBe(false);
    expect(row.key_hash).toEqual(hashApiKey(created.key));
    expect((await keys.list())[0]).not.toHaveProperty('key');
    expect((await keys.create({})).key).not.toBe(created.key);
  });

  it('authenticates the key it made and nothing else', async () => {
    const { keys } = await setup();
    const { key, id } = await keys.create({});
    expect(await keys.authenticate(key)).toEqual({ keyId: id, numberIds: null });
    expect(await keys.authenticate(`${key}x`)).toBeUndefined();
    expect(await keys.authenticate(key.replace('agp_', 'agx_'))).toBeUndefined();
    expect(await keys.authenticate('')).toBeUndefined();
  });

  it('revocation takes effect on the next authentication', async () => {
    const { keys } = await setup();
    const { key, id } = await keys.create({});
    expect(await keys.authenticate(key)).toBeDefined();
    expect((await keys.revoke(id)).revokedAt).not.toBeNull();
    expect(await keys.authenticate(key)).toBeUndefined();
    await expect(keys.revoke('key_missing')).rejects.toThrow(/No API key/);
  });

  it('reads a key from the database at most every 5 s; a revocation by another process lands within that', async () => {
    const { t, keys, advance } = await setup();
    const { key, id } = await keys.create({});
    expect(await keys.authenticate(key)).toBeDefined();
    await new ApiKeysRepository(t.store.db).revoke(id, '2026-11-01T00:00:01.000Z'); // as the CLI (or another node) would
    advance(4_000);
    expect(await keys.authenticate(key)).toBeDefined();
    advance(1_000);
    expect(await keys.authenticate(key)).toBeUndefined();
  });

  it('scopes a key to a list of numbers', async () => {
    const { keys, a, b } = await setup();
    const { key } = await keys.create({ numberIds: [b.id, a.id] });
    const principal = await keys.authenticate(key);
    expect(principal?.numberIds).toEqual([a.id, b.id].sort());
    const { key: narrow } = await keys.create({ numberIds: [a.id] });
    const one = (await keys.authenticate(narrow))!;
    expect(canAccessNumber(one, a.id)).toBe(true);
    expect(canAccessNumber(one, b.id)).toBe(false);
    await expect(keys.create({ numberIds: ['num_nope'] })).rejects.toThrow(/numbers: no number has id "num_nope"/);
  });

  it('revokes a key once when two revocations race (one true, one false)', async () => {
    const { t, keys } = await setup();
    const { id } = await keys.create({});
    const repo = new ApiKeysRepository(t.store.db);
    const results = await Promise.all([repo.revoke(id, '2026-11-01T00:00:01.000Z'), repo.revoke(id, '2026-11-01T00:00:02.000Z')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await repo.get(id))?.revokedAt).toMatch(/^2026-11-01T00:00:0[12]/);
  });

  it('lists keys oldest first, each with its own scope', async () => {
    const { keys, a, b, advance } = await setup();
    const first = await keys.create({ name: 'one', numberIds: [a.id, b.id] });
    advance(1);
    const second = await keys.create({ name: 'two' });
    advance(1);
    const third = await keys.create({ name: 'three', numberIds: [b.id] });
    expect((await keys.list()).map((k) => [k.id, k.numbers])).toEqual([
      [first.id, [a.id, b.id].sort()],
      [second.id, 'all'],
      [third.id, [b.id]],
    ]);
  });

  it('records last use, at most once a minute, and not once per request of a burst', async () => {
    const { t, keys, advance } = await setup();
    const { key, id } = await keys.create({});
    const writes: string[] = [];
    const repo = new ApiKeysRepository(t.store.db);
    const counting = new ApiKeyService(
      Object.assign(Object.create(repo) as ApiKeysRepository, {
        touch: (keyId: string, now: string) => {
          writes.push(now);
          return repo.touch(keyId, now);
        },
      }),
      (await numbersOn(t, { now: () => 0 })).repo,
      { now: () => Date.parse('2026-11-01T00:00:00Z') },
    );
    await Promise.all(Array.from({ length: 20 }, () => counting.authenticate(key)));
    expect(writes).toHaveLength(1);
    await keys.authenticate(key);
    const first = (await keys.list()).find((k) => k.id === id)?.lastUsedAt;
    expect(first).toBe('2026-11-01T00:00:00.000Z');
    advance(10_000);
    await keys.authenticate(key);
    expect((await keys.list()).find((k) => k.id === id)?.lastUsedAt).toBe(first);
    advance(60_000);
    await keys.authenticate(key);
    expect((await keys.list()).find((k) => k.id === id)?.lastUsedAt).toBe('2026-11-01T00:01:10.000Z');
  });
});

describeOnEachDialect('numbers', (open) => {
  const store = storesOf(open);
  const clock: Clock = { now: () => 0 };

  it('keeps a number id when its SIM moves to another line, and releases a line given a new SIM', async () => {
    const { numbers } = await numbersOn(await store(), clock);
    const first = await numbers.lineFound('modem-1', '+15550000001');
    const moved = await numbers.lineFound('modem-2', '+15550000001');
    expect(moved.id).toBe(first.id);
    expect(moved.lineId).toBe('modem-2');
    expect(moved.webhookSecret).toBe(first.webhookSecret);
    const other = await numbers.lineFound('modem-2', '+15550000009');
    expect(other.id).not.toBe(first.id);
    expect(numbers.get(first.id)).toMatchObject({ lineId: null, status: 'inactive' });
  });

  it('applies config settings for the line at every start', async () => {
    const { numbers } = await numbersOn(await store(), clock, [
      { line: 'l1', webhookUrl: 'https://agent.example/hook', webhookTimeoutMs: 5000, overage: true, label: 'Sales' },
    ]);
    expect(await numbers.lineFound('l1', '+15550000001')).toMatchObject({
      webhookUrl: 'https://agent.example/hook',
      webhookTimeoutMs: 5000,
      overageEnabled: true,
      label: 'Sales',
    });
    expect(await numbers.lineFound('l2', '+15550000002')).toMatchObject({ webhookUrl: null, webhookTimeoutMs: 10_000, overageEnabled: false });
  });

  it('rotates the webhook secret and validates webhook URLs', async () => {
    const { numbers } = await numbersOn(await store(), clock);
    const n = await numbers.lineFound('l1', '+15550000001');
    expect(n.webhookSecret).toMatch(/^whsec_[0-9A-Za-z]{40,}$/);
    expect((await numbers.rotateWebhookSecret(n.id)).webhookSecret).not.toBe(n.webhookSecret);
    await expect(numbers.setWebhook(n.id, { url: 'ftp://x' })).rejects.toThrow(/url: must use http or https/);
    await expect(numbers.setWebhook(n.id, { url: 'not a url' })).rejects.toThrow(/url: must be an absolute/);
    expect(await numbers.setWebhook(n.id, { url: 'http://127.0.0.1:9/x', timeoutMs: 2500 })).toMatchObject({
      webhookUrl: 'http://127.0.0.1:9/x',
      webhookTimeoutMs: 2500,
    });
  });
});
