import Type from 'typebox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import { AgentPhoneError } from '../../src/errors/index.ts';
import type { Core } from '../../src/core.ts';
import { testApp } from '../helpers/gateway.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' };

describe('HTTP error contract', () => {
  const tempDir = useTempDir();
  let app: App;
  let core: Core;
  let key: string;
  let numberA: string;
  let numberB: string;

  beforeEach(async () => {
    ({ app, core } = await testApp(tempDir(), { server: { bodyLimitBytes: 2048 } }));
    numberA = (await core.numbers.lineFound('la', '+15550000001')).id;
    numberB = (await core.numbers.lineFound('lb', '+15550000002')).id;
    key = (await core.apiKeys.create({ numberIds: [numberA] })).key;
    // Routes that fail on purpose, to see how the one error handler treats each class.
    app.get('/boom', async () => {
      throw new Error('secret internal detail at /srv/agentphone/src/x.ts:12');
    });
    app.get('/unavailable', async () => {
      throw new AgentPhoneError('MODEM_DOWN', 'No modem is ready for this number', { status: 503 });
    });
    const Shape = Type.Object(
      {
        kind: Type.Union([Type.Literal('sms'), Type.Literal('mms'), Type.Literal('call')]),
        size: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
        color: Type.Optional(Type.String({ enum: ['red', 'green'] })),
        tags: Type.Optional(Type.Array(Type.Object({ name: Type.String() }))),
      },
      { additionalProperties: false },
    );
    app.post('/shape', { schema: { body: Shape } }, async () => ({ ok: true }));
  });
  afterEach(async () => {
    await app.close();
    await core.close();
  });

  const expectShape = (body: string) => {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['error', 'message']);
    expect(typeof parsed.message).toBe('string');
    return parsed;
  };

  it('401 with exactly the spec body for a missing, malformed or unknown key', async () => {
    for (const authorization of [undefined, 'Basic abc', 'Bearer agp_nope', 'Bearer ']) {
      const res = await app.inject({ url: '/api/numbers', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'Unauthorized', message: 'Invalid or missing API key' });
    }
  });

  it('lists only the numbers in the key scope; an out-of-scope number is a 404 like a missing one', async () => {
    const auth = { authorization: `Bearer ${key}` };
    const list = await app.inject({ url: '/api/numbers', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(list.json().numbers.map((n: { id: string }) => n.id)).toEqual([numberA]);
    expect(list.body).not.toContain('whsec_');
    const outOfScope = await app.inject({ url: `/api/numbers/${numberB}`, headers: auth });
    const missing = await app.inject({ url: '/api/numbers/num_doesnotexist', headers: auth });
    expect(outOfScope.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(expectShape(outOfScope.body).error).toBe('Not Found');
    expect(outOfScope.json().message.replace(numberB, 'X')).toBe(missing.json().message.replace('num_doesnotexist', 'X'));
  });

  it('404 for unknown routes', async () => {
    const res = await app.inject({ url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'Not Found', message: 'Route GET /nope not found' });
  });

  it('400 naming the problem for bad JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'Bad Request', message: 'Request body is not valid JSON' });
  });

  it('400 naming the field for a schema failure', async () => {
    const res = await app.inject({ method: 'POST', url: '/admin/keys', headers: ADMIN, payload: { name: 5 } });
    expect(res.statusCode).toBe(400);
    expect(expectShape(res.body).message).toMatch(/^body\.name: /);
    const put = await app.inject({ method: 'PUT', url: `/admin/numbers/${numberA}/webhook`, headers: ADMIN, payload: {} });
    expect(put.statusCode).toBe(400);
    expect(put.json().message).toBe('body.url: required');
  });

  it('413 for an oversized body', async () => {
    const res = await app.inject({ method: 'POST', url: '/admin/keys', headers: ADMIN, payload: { name: 'x'.repeat(5000) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'Payload Too Large', message: 'Request body is larger than the server accepts' });
  });

  it('415 for a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { ...ADMIN, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.statusCode).toBe(415);
    expect(expectShape(res.body).error).toBe('Unsupported Media Type');
  });

  it('500 without stack traces or paths', async () => {
    const res = await app.inject({ url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'Internal Server Error', message: 'An unexpected error occurred' });
  });

  it('503 keeps its message: it tells the client what is unavailable', async () => {
    const res = await app.inject({ url: '/unavailable' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'Service Unavailable', message: 'No modem is ready for this number' });
  });

  it('guards /admin with the admin token, not with API keys', async () => {
    const withKey = await app.inject({ url: '/admin/keys', headers: { authorization: `Bearer ${key}` } });
    expect(withKey.statusCode).toBe(401);
    expect(withKey.json()).toEqual({ error: 'Unauthorized', message: 'Invalid or missing admin token' });
    expect((await app.inject({ url: '/admin/keys', headers: ADMIN })).statusCode).toBe(200);
  });

  it('serves health, Prometheus metrics and the OpenAPI document', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
    await app.inject({ url: '/api/numbers', headers: { authorization: `Bearer ${key}` } });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/agentphone_http_requests_total\{method="GET",route="\/api\/numbers",status="200"\} 1/);
    const doc = (await app.inject({ url: '/docs/json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/numbers', '/api/numbers/{id}', '/healthz']));
    expect((await app.inject({ url: '/docs/' })).statusCode).toBe(200);
  });

  it('speaks to a person about a body that breaks the schema: one line per field, a union folded into what it allows', async () => {
    const cases: Array<[unknown, string]> = [
      [{ kind: 'fax' }, 'body.kind: must be one of: sms, mms, call'],
      [{ kind: 'sms', size: 'big' }, 'body.size: must be an integer or null'],
      [{ kind: 'sms', color: 'blue' }, 'body.color: must be one of: red, green'],
      [{ kind: 'sms', tags: [{ name: 5 }] }, 'body.tags.0.name: must be a string'],
      [{ kind: 'sms', extra: 1 }, 'body.extra: is not a known field'],
      [{}, 'body.kind: required'],
    ];
    for (const [payload, message] of cases) {
      const res = await app.inject({ method: 'POST', url: '/shape', payload: payload as object });
      expect(res.statusCode, message).toBe(400);
      expect(res.json()).toEqual({ error: 'Bad Request', message });
    }
  });

  it('answers with a request id, errors included', async () => {
    const res = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(res.headers['x-request-id']).toBe('trace-123');
    for (const url of ['/api/numbers', '/no/such/route']) {
      const failed = await app.inject({ url, headers: { 'x-request-id': 'trace-456' } });
      expect([401, 404]).toContain(failed.statusCode);
      expect(failed.headers['x-request-id']).toBe('trace-456');
    }
  });
});
