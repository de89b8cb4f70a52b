import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import { validateConfig } from '../../src/config/index.ts';
import { buildCoreApp, createCore, type Core } from '../../src/core.ts';
import { createLogger } from '../../src/logging/index.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

describe('dashboard login is rate-limited per client address with backoff', () => {
  const tempDir = useTempDir();
  let core: Core;
  let app: App;
  let clock: ManualClock;
  let logged: string[];

  async function start(overrides: Record<string, unknown> = {}): Promise<void> {
    clock = new ManualClock();
    logged = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString('utf8'));
        done();
      },
    });
    const config = validateConfig({ dataDir: tempDir(), adminToken: ADMIN_TOKEN, ...overrides });
    core = await createCore(config, createLogger({ level: 'info' }, sink), { clock });
    app = await buildCoreApp(core);
  }
  afterEach(async () => {
    await app.close();
    await core.close();
  });

  const login = (token: string, ip = '203.0.113.7') =>
    app.inject({ method: 'POST', url: '/auth/login', payload: { token }, remoteAddress: ip });

  it('allows the free failures, then answers 429 with Retry-After, doubling the wait on each further failure', async () => {
    await start({ dashboard: { loginFailuresBeforeLockout: 3 } });
    for (let i = 0; i < 3; i++) expect((await login(`guess-${i}`)).statusCode).toBe(401);
    // The 4th failure is still judged (401) and starts a 1 s lockout.
    expect((await login('guess-3')).statusCode).toBe(401);
    const locked = await login(ADMIN_TOKEN);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toEqual({ error: 'Too Many Requests', message: 'Too many failed logins from this address; try again later' });
    expect(locked.headers['retry-after']).toBe('1');
    // Another address is not affected.
    expect((await login(ADMIN_TOKEN, '198.51.100.9')).statusCode).toBe(200);

    clock.advance(1000);
    expect((await login('guess-4')).statusCode).toBe(401); // 2 s now
    expect((await login('guess-5')).headers['retry-after']).toBe('2');
    clock.advance(2000);
    expect((await login('guess-6')).statusCode).toBe(401); // 4 s now
    clock.advance(3999);
    expect((await login(ADMIN_TOKEN)).statusCode).toBe(429);
    clock.advance(1);
    // The right token after the wait logs in and clears the address.
    expect((await login(ADMIN_TOKEN)).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) expect((await login(`again-${i}`)).statusCode).toBe(401);
  });

  it('caps guessing: 1,000 tries from one address get at most a handful judged', async () => {
    await start();
    let judged = 0;
    for (let i = 0; i < 1000; i++) {
      const res = await login(`guess-${i}`);
      if (res.statusCode === 401) judged++;
      else expect(res.statusCode).toBe(429);
    }
    expect(judged).toBe(6);
  });

  it('logs each failure with the address and count, never the token tried', async () => {
    await start();
    await login('my-secret-guess-xyz');
    const lines = logged.filter((l) => l.includes('dashboard login failed'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ address: '203.0.113.7', failures: 1, lockedForMs: 0 });
    expect(logged.join('')).not.toContain('my-secret-guess-xyz');
    expect(logged.join('')).not.toContain(ADMIN_TOKEN);
  });
});
