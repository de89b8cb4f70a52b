import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../src/config/index.ts';
import { createCore, type Core } from '../../src/core.ts';
import { ConfigError, StoreError } from '../../src/errors/index.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { SecretBox } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const KEY_HEX = randomBytes(32).toString('hex');
const OTHER_KEY = randomBytes(32).toString('base64');
const SUBSCRIBER = '+15557654321';

/** What a reader of the database file sees, bypassing the gateway. */
function rawSecrets(dataDir: string): Array<{ id: string; webhook_secret: string }> {
  const db = new Database(join(dataDir, 'agentphone.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, webhook_secret FROM numbers ORDER BY id').all() as Array<{ id: string; webhook_secret: string }>;
  } finally {
    db.close();
  }
}

const core = (dataDir: string, secretsKey: string | null = null): Promise<Core> =>
  createCore(validateConfig({ dataDir, adminToken: 'test-admin-token-0123456789', store: { secretsKey } }), silentLogger());

describe('webhook secrets at rest', () => {
  const tempDir = useTempDir();
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('with a key, the database file never holds a webhook secret in clear, also after a rotation', async () => {
    const dataDir = tempDir();
    const c = await core(dataDir, KEY_HEX);
    cleanup.push(() => c.close());
    const n = await c.numbers.lineFound('line-1', '+15550000001');
    const rotated = await c.numbers.rotateWebhookSecret(n.id);
    expect(n.webhookSecret).toMatch(/^whsec_/);
    expect(rotated.webhookSecret).toMatch(/^whsec_/);
    expect(rotated.webhookSecret).not.toBe(n.webhookSecret);
    const [row] = rawSecrets(dataDir);
    expect(row!.webhook_secret).toMatch(/^enc:v1:[A-Za-z0-9+/]+=*$/);
    expect(row!.webhook_secret).not.toContain(rotated.webhookSecret);
    expect(row!.webhook_secret).not.toContain(rotated.webhookSecret.slice(6));
    expect(c.numbers.get(n.id).webhookSecret).toBe(rotated.webhookSecret);
  });

  it('seals the plaintext secrets of an existing store at the first start with a key, keeping their values', async () => {
    const dataDir = tempDir();
    const before = await core(dataDir);
    const a = await before.numbers.lineFound('line-1', '+15550000001');
    const b = await before.numbers.lineFound('line-2', '+15550000002');
    await before.close();
    expect(rawSecrets(dataDir).map((r) => r.webhook_secret).sort()).toEqual([a.webhookSecret, b.webhookSecret].sort());

    const after = await core(dataDir, KEY_HEX);
    cleanup.push(() => after.close());
    expect(rawSecrets(dataDir).every((r) => r.webhook_secret.startsWith('enc:v1:'))).toBe(true);
    expect(after.numbers.get(a.id).webhookSecret).toBe(a.webhookSecret);
    expect(after.numbers.get(b.id).webhookSecret).toBe(b.webhookSecret);
  });

  it('refuses to start with a wrong key, or with none, once secrets are sealed: a clear error, never a garbage secret', async () => {
    const dataDir = tempDir();
    const sealed = await core(dataDir, KEY_HEX);
    await sealed.numbers.lineFound('line-1', '+15550000001');
    await sealed.close();
    await expect(core(dataDir, OTHER_KEY)).rejects.toThrow(StoreError);
    await expect(core(dataDir, OTHER_KEY)).rejects.toThrow(/secrets key .* does not open the webhook secrets/);
    await expect(core(dataDir)).rejects.toThrow(/sealed webhook secrets but no key is configured/);
    // The right key still opens them: the failed starts changed nothing.
    const again = await core(dataDir, KEY_HEX);
    await again.close();
  });

  it('binds each sealed secret to its number: a value copied to another row does not open', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('whsec_abc', 'num_1');
    expect(box.open(sealed, 'num_1')).toBe('whsec_abc');
    expect(() => box.open(sealed, 'num_2')).toThrow(StoreError);
    expect(box.seal('whsec_abc', 'num_1')).not.toBe(sealed);
  });

  it('signs webhooks with the plain secret: a real gateway, a subscriber SMS, a loopback receiver', async () => {
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    cleanup.push(() => receiver.stop());
    const dataDir = tempDir();
    const gw = await startTestGateway(dataDir, { store: { secretsKey: KEY_HEX } });
    cleanup.push(() => gw.stop());
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
    // The secret as the operator reads it from the admin API, as a receiver would be configured.
    const view = await gw.app.inject({ method: 'GET', url: `/admin/numbers/${gw.numberA}/webhook`, headers: { authorization: 'Bearer test-admin-token-0123456789' } });
    const secret = (view.json() as { secret: string }).secret;
    expect(secret).toMatch(/^whsec_/);
    expect(rawSecrets(dataDir).some((r) => r.webhook_secret.includes(secret))).toBe(false);

    gw.network!.text(SUBSCRIBER, '+15550000001', 'hello');
    await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
    const [hook] = receiver.events('message.inbound');
    expect(hook!.headers['x-agentphone-signature']).toBe(createHmac('sha256', secret).update(hook!.raw).digest('hex'));
  });
});

describe('the secrets key setting', () => {
  const tempDir = useTempDir();

  it('comes from AGENTPHONE_SECRETS_KEY (hex or base64) or a key file, never both', () => {
    const cwd = tempDir();
    expect(loadConfig({ env: { AGENTPHONE_SECRETS_KEY: KEY_HEX }, cwd }).store.secretsKey).toBe(KEY_HEX);
    expect(loadConfig({ env: { AGENTPHONE_SECRETS_KEY: OTHER_KEY }, cwd }).store.secretsKey).toBe(OTHER_KEY);
    writeFileSync(join(cwd, 'key'), `${KEY_HEX}\n`, { mode: 0o600 });
    const fromFile = loadConfig({ env: { AGENTPHONE_SECRETS_KEY_FILE: 'key' }, cwd });
    expect(fromFile.store).toMatchObject({ secretsKey: KEY_HEX, secretsKeyFile: join(cwd, 'key') });
    expect(() => loadConfig({ env: { AGENTPHONE_SECRETS_KEY: KEY_HEX, AGENTPHONE_SECRETS_KEY_FILE: 'key' }, cwd })).toThrow(/not both/);
  });

  it('refuses a key that is not 32 bytes, or a missing key file, without quoting the key', async () => {
    const cwd = tempDir();
    const short = randomBytes(16).toString('hex');
    let error: unknown;
    try {
      loadConfig({ env: { AGENTPHONE_SECRETS_KEY: short }, cwd });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^store\.secretsKey: must be 32 bytes/)]);
    expect((error as Error).message).not.toContain(short);
    expect(() => loadConfig({ env: { AGENTPHONE_SECRETS_KEY_FILE: 'missing' }, cwd })).toThrow(/store\.secretsKeyFile: .*missing: file not found/);
    writeFileSync(join(cwd, 'bad'), 'not a key\n');
    expect(() => loadConfig({ env: { AGENTPHONE_SECRETS_KEY_FILE: 'bad' }, cwd })).toThrow(/must hold 32 bytes/);
    // A config that skipped validation does not turn a bad key into "no key".
    const valid = validateConfig({ dataDir: join(cwd, 'data') });
    const unvalidated = { ...valid, store: { ...valid.store, secretsKey: short, secretsKeyFile: null } };
    await expect(createCore(unvalidated, silentLogger())).rejects.toThrow(ConfigError);
  });
});
