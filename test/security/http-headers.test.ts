import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import type { Core } from '../../src/core.ts';
import { testApp } from '../helpers/gateway.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' };

describe('HTTP hardening: headers on every answer, guarded /metrics and /docs, 401 before 404', () => {
  const tempDir = useTempDir();
  let app: App;
  let core: Core;

  const start = async (overrides: Record<string, unknown> = {}) => {
    ({ app, core } = await testApp(tempDir(), overrides));
    return (await core.apiKeys.create({ name: 'k' })).key;
  };
  afterEach(async () => {
    await app?.close();
    await core?.close();
  });

  it('sends nosniff and a CSP that allows nothing on JSON answers, errors and metrics', async () => {
    const key = await start();
    const answers = await Promise.all([
      app.inject({ url: '/healthz' }),
      app.inject({ url: '/metrics' }),
      app.inject({ url: '/api/numbers', headers: { authorization: `Bearer ${key}` } }),
      app.inject({ url: '/api/numbers' }),
      app.inject({ url: '/admin/keys', headers: ADMIN }),
      app.inject({ url: '/no/such/route?x=<script>' }),
    ]);
    for (const res of answers) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; frame-ancestors 'none'/);
    }
  });

  it("gives Swagger UI a CSP that loads only its own scripts, and the page's scripts resolve under it", async () => {
    await start();
    const page = await app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // No inline script in the page (it would be blocked): every script is a same-origin file that is served.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const scripts = [...page.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src).not.toMatch(/^(https?:)?\/\//);
      const res = await app.inject({ url: new URL(src, 'http://x/docs/').pathname });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/javascript/);
    }
  });

  it('leaves /metrics and /docs open by default, and guards them with the admin token when configured', async () => {
    await start({ server: { metricsRequireAdmin: true, docsRequireAdmin: true } });
    for (const url of ['/metrics', '/docs/', '/docs/json', '/docs/static/swagger-ui-bundle.js']) {
      const open = await app.inject({ url });
      expect(open.statusCode, url).toBe(401);
      expect(open.json()).toEqual({ error: 'Unauthorized', message: 'Invalid or missing admin token' });
      expect((await app.inject({ url, headers: { authorization: 'Bearer wrong-token-wrong-token' } })).statusCode, url).toBe(401);
      expect((await app.inject({ url, headers: ADMIN })).statusCode, url).toBe(200);
    }
    // The router decodes percent-escapes; the guard goes by the matched route, so they do not slip past it.
    expect((await app.inject({ url: '/%64ocs/json' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/%6detrics' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('lets dashboard pages load images and media only from this origin and the configured media origin', async () => {
    await start();
    const csp = String((await app.inject({ url: '/' })).headers['content-security-policy']);
    expect(csp).toContain("img-src 'self';");
    expect(csp).toContain("media-src 'self';");
    expect(csp).not.toMatch(/https?:[ ;]|data:|blob:/);
    await app.close();
    await core.close();
    await start({ media: { publicUrl: 'https://media.gw.example/agentphone/' } });
    const withOrigin = String((await app.inject({ url: '/' })).headers['content-security-policy']);
    expect(withOrigin).toContain("img-src 'self' https://media.gw.example;");
    expect(withOrigin).toContain("media-src 'self' https://media.gw.example;");
  });

  it('answers an unknown /api or /admin path 401 without credentials, 404 only with them', async () => {
    const key = await start();
    for (const url of ['/api/does-not-exist', '/api/v9/secret-route', '/admin/does-not-exist']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error).toBe('Unauthorized');
    }
    const withKey = await app.inject({ url: '/api/does-not-exist', headers: { authorization: `Bearer ${key}` } });
    expect(withKey.statusCode).toBe(404);
    expect(withKey.json()).toEqual({ error: 'Not Found', message: 'Route GET /api/does-not-exist not found' });
    expect((await app.inject({ url: '/admin/does-not-exist', headers: ADMIN })).statusCode).toBe(404);
    // Outside /api and /admin an unknown path is still a plain 404.
    expect((await app.inject({ url: '/nope' })).statusCode).toBe(404);
  });
});
