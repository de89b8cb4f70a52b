import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import { validateConfig } from '../../src/config/index.ts';
import { buildCoreApp, createCore, type Core } from '../../src/core.ts';
import { createLogger, redactUrl, type Logger } from '../../src/logging/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const PHONE = '+15557654321';

/** Every line a logger writes, as text. */
function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('logs never carry what a client put in a query string', () => {
  const tempDir = useTempDir();
  let app: App | undefined;
  let core: Core | undefined;
  afterEach(async () => {
    await app?.close();
    await core?.close();
    app = undefined;
    core = undefined;
  });

  /** A whole core app on a real loopback port, logging through `logger`. */
  async function listen(logger: Logger): Promise<string> {
    const config = validateConfig({ dataDir: tempDir(), adminToken: ADMIN_TOKEN, log: { level: 'info' } });
    core = await createCore(config, logger);
    app = await buildCoreApp(core);
    return app.listen({ host: '127.0.0.1', port: 0 });
  }

  async function leakAttempts(url: string, apiKey: string): Promise<void> {
    const query = `api_key=${apiKey}&token=${ADMIN_TOKEN}&contact=${encodeURIComponent(PHONE)}&limit=5&${encodeURIComponent(apiKey)}`;
    await fetch(`${url}/api/numbers?${query}`);
    await fetch(`${url}/admin/keys?${query}`);
    await fetch(`${url}/no/such/route?${query}`);
    await fetch(`${url}/healthz?q=hello%20secret%20text&direction=inbound`);
  }

  for (const [name, make] of [
    ['the root logger (createLogger)', (d: Writable) => createLogger({ level: 'info' }, d)],
    ['any pino logger handed to the app', (d: Writable) => pino({ level: 'info' }, d)],
  ] as const) {
    it(`redacts query values in request logs through a real request: ${name}`, async () => {
      const out = capture();
      const url = await listen(make(out.stream));
      const apiKey = (await core!.apiKeys.create({ name: 'k' })).key;
      await leakAttempts(url, apiKey);
      await app!.close();
      const logged = out.text();
      // The requests were logged, with their paths and harmless parameters…
      expect(logged).toContain('"url":"/api/numbers?[redacted]&[redacted]&contact=[redacted]&limit=5&[redacted]"');
      expect(logged).toContain('"url":"/healthz?q=[redacted]&direction=inbound"');
      // …but none of the secrets, the phone number or the text.
      for (const secret of [apiKey, ADMIN_TOKEN, PHONE, encodeURIComponent(PHONE), '15557654321', 'secret%20text']) {
        expect(logged).not.toContain(secret);
      }
    });
  }

  it('redactUrl keeps paths and the API\'s harmless parameters, hides other values and every unknown name', () => {
    expect(redactUrl('/api/numbers')).toBe('/api/numbers');
    expect(redactUrl('/x?')).toBe('/x?');
    expect(redactUrl('/x?limit=10&cursor=abc&contact=%2B1555&key=agp_123')).toBe('/x?limit=10&cursor=abc&contact=[redacted]&[redacted]');
    expect(redactUrl('/x?agp_0123456789abcdef0123456789abcdef&limit')).toBe('/x?[redacted]&limit');
    expect(redactUrl('/x?%E0%A4%A=1&a%20b=2&=3')).toBe('/x?[redacted]&[redacted]&[redacted]');
  });
});
