import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable, type RouteEntry } from '../../src/api/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';

/**
 * Auth over every route the whole gateway serves, read from its route table: a route added
 * anywhere under /api or /admin is checked here without being listed. Routes outside them
 * are public by design and listed below, so a new public route is a conscious choice.
 */
const PUBLIC_ROUTES = new Set(['/healthz', '/metrics', '/media/:id', '/auth/login', '/auth/session', '/auth/logout', '/', '/index.html', '/favicon.ico', '/favicon.svg']);
/** Routes behind an API key: /api and the MCP server (its Streamable HTTP endpoint). */
const isApiKeyRoute = (url: string) => url.startsWith('/api/') || url === '/mcp';
const isPublic = (url: string) => PUBLIC_ROUTES.has(url) || url === '/docs' || url.startsWith('/docs/') || url.startsWith('/assets/');

/** A body the route accepts, so that a scoped-key request reaches the handler (not a 400). */
const VALID_BODIES: Record<string, unknown> = {
  'POST /api/numbers/:id/send/sms': { to: '+15559870001', body: 'hello' },
  'POST /api/numbers/:id/calls': { to: '+15559870001' },
};

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const UNAUTHORIZED = { error: 'Unauthorized' };
/** /api/v1 answers in the OpenAI error shape (docs/api-errors.md). */
const UNAUTHORIZED_V1 = { error: { type: 'authentication_error', code: 'invalid_api_key' }, message: 'Invalid or missing API key' };

describe('auth matrix over every route in the route table (whole gateway)', () => {
  const tempDir = useTempDir();
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let routes: readonly RouteEntry[];
  let revokedKey: string;
  let scopedToA: string;

  beforeAll(async () => {
    gw = await startTestGateway(tempDir());
    routes = routeTable(gw.app);
    const revoked = await gw.core.apiKeys.create({ name: 'revoked' });
    await gw.core.apiKeys.revoke(revoked.id);
    revokedKey = revoked.key;
    scopedToA = (await gw.core.apiKeys.create({ name: 'scoped', numberIds: [gw.numberA] })).key;
  }, 60_000);
  afterAll(() => gw?.stop());

  /** The route's URL with its parameters filled in. */
  const fill = (url: string, numberId = 'num_x') =>
    url.replace(':id', numberId).replace(/:[A-Za-z]+/g, 'x0').replace('*', 'x0');

  function send(route: RouteEntry, headers: Record<string, string>, numberId?: string): Promise<LightMyRequestResponse> {
    const body = VALID_BODIES[`${route.method} ${route.url}`] ?? (route.method === 'GET' ? undefined : {});
    return gw.app.inject({
      method: route.method as 'GET',
      url: fill(route.url, numberId),
      headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { payload: JSON.stringify(body) }),
    });
  }

  it('finds the routes of every domain in the table', () => {
    const urls = routes.map((r) => `${r.method} ${r.url}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        'GET /api/numbers',
        'POST /api/numbers/:id/send/sms',
        'POST /api/numbers/:id/calls',
        'POST /api/v1/audio/transcriptions',
        'POST /api/v1/chat/completions',
        'POST /admin/keys',
        'POST /admin/sim/mms',
        'GET /admin/messages/stream',
        'GET /admin/cluster',
      ]),
    );
    const unguarded = routes.filter((r) => !isApiKeyRoute(r.url) && !r.url.startsWith('/admin/') && !isPublic(r.url));
    expect(unguarded, 'a route outside /api and /admin that is not on the public list').toEqual([]);
  });

  const apiCases: [string, () => Record<string, string>][] = [
    ['no key', () => ({})],
    ['a malformed Authorization header', () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
    ['an unknown key', () => ({ authorization: 'Bearer agp_00000000000000000000000000000000000000000000' })],
    ['a revoked key', () => ({ authorization: `Bearer ${revokedKey}` })],
    ['the admin token', () => ({ authorization: `Bearer ${ADMIN_TOKEN}` })],
  ];
  for (const [what, headers] of apiCases) {
    it(`answers 401 on every /api route to ${what}`, async () => {
      const api = routes.filter((r) => isApiKeyRoute(r.url));
      expect(api.length).toBeGreaterThan(10);
      for (const route of api) {
        const res = await send(route, headers());
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.json(), `${route.method} ${route.url}`).toMatchObject(route.url.startsWith('/api/v1/') ? UNAUTHORIZED_V1 : UNAUTHORIZED);
      }
    });
  }

  const adminCases: [string, () => Record<string, string>][] = [
    ['no token', () => ({})],
    ['a wrong token', () => ({ authorization: 'Bearer wrong-admin-token-0123456789' })],
    ['a token differing in the last character', () => ({ authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}X` })],
    ['an API key', () => ({ authorization: `Bearer ${gw.key}` })],
    ['a forged session cookie', () => ({ cookie: 'agentphone_session=forged', 'x-csrf-token': 'forged' })],
  ];
  for (const [what, headers] of adminCases) {
    it(`answers 401 on every /admin route to ${what}`, async () => {
      const admin = routes.filter((r) => r.url.startsWith('/admin/'));
      expect(admin.length).toBeGreaterThan(20);
      for (const route of admin) {
        const res = await send(route, headers());
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.json(), `${route.method} ${route.url}`).toMatchObject(UNAUTHORIZED);
      }
    });
  }

  it("gives a key scoped to number A a 404 on every one of number B's routes, as for a number that does not exist", async () => {
    const numberRoutes = routes.filter((r) => r.url.startsWith('/api/numbers/:id'));
    expect(numberRoutes.length).toBeGreaterThan(5);
    for (const route of numberRoutes) {
      if (route.body !== undefined && route.method !== 'GET') {
        expect(VALID_BODIES, `add a valid body for ${route.method} ${route.url} to VALID_BODIES`).toHaveProperty([`${route.method} ${route.url}`]);
      }
      const res = await send(route, { authorization: `Bearer ${scopedToA}` }, gw.numberB);
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(404);
      // Word for word what a number that does not exist gets: the key learns nothing about B.
      const missing = await send(route, { authorization: `Bearer ${scopedToA}` }, 'num_doesnotexist');
      expect(res.json().message.replace(gw.numberB, 'X'), `${route.method} ${route.url}`).toBe(missing.json().message.replace('num_doesnotexist', 'X'));
    }
    // The scoped key lists only its own number.
    const list = await gw.app.inject({ url: '/api/numbers', headers: { authorization: `Bearer ${scopedToA}` } });
    expect((list.json() as { numbers: { id: string }[] }).numbers.map((n) => n.id)).toEqual([gw.numberA]);
    // And the same key does reach number A (the 404s above are the scope, not a broken route).
    const own = await gw.app.inject({ url: `/api/numbers/${gw.numberA}/messages`, headers: { authorization: `Bearer ${scopedToA}` } });
    expect(own.statusCode).toBe(200);
  });
});
