import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApiDocs, renderApiDocs, typeOf } from '../../scripts/api-docs.ts';

describe('docs/api.md', () => {
  it('is what `npm run docs:api` generates from the route schemas today (run it after changing a route)', async () => {
    const generated = await buildApiDocs();
    const committed = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    expect(committed === generated, 'docs/api.md is out of date: run npm run docs:api').toBe(true);
    // Every route of the spec is in it.
    for (const route of ['POST /api/numbers/{id}/send/sms', 'POST /api/v1/audio/transcriptions', 'POST /api/v1/audio/speech', 'GET /api/v1/voices', 'POST /api/v1/chat/completions', 'GET /api/v1/models']) {
      expect(generated).toContain(`### \`${route}\``);
    }
  });

  it('names every webhook event the gateway sends, as docs/webhooks.md does', () => {
    const signer = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'webhooks', 'signer.ts'), 'utf8');
    const events = [...signer.matchAll(/event: '([\w.]+)'/g)].map((m) => m[1]!);
    expect(events).toContain('message.inbound');
    const api = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    const webhooks = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'webhooks.md'), 'utf8');
    for (const event of events) {
      expect(api, event).toContain(`\`${event}\``);
      expect(webhooks, event).toMatch(new RegExp(`(### |\\| )\`${event.replace('.', '\\.')}\``));
    }
  });

  it('renders fields, nested fields, unions and the {error, message} answers of a schema', () => {
    const error = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } };
    const md = renderApiDocs({
      paths: {
        '/api/things/{id}': {
          post: {
            summary: 'Make a thing',
            security: [{ bearer: [] }],
            parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['to'],
                    properties: { to: { type: 'string', description: 'E.164' }, parts: { type: 'array', items: { type: 'object', properties: { seq: { type: 'integer', minimum: 1 } } } } },
                  },
                },
              },
            },
            responses: { '200': { content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string', enum: ['queued'] } } } } } }, '404': { content: { 'application/json': { schema: error } } } },
          },
        },
      },
    });
    const expected = [
      '### `POST /api/things/{id}`',
      'Auth: API key (bearer).',
      '| `id` | path | string | yes | ≤ 64 chars |',
      '| `to` | string | yes | E.164 |',
      '| `parts[].seq` | integer |  | ≥ 1 |',
      '| `status` | "queued" |  |  |',
      'Errors: `404` (`{error, message}`).',
    ];
    for (const line of expected) expect(md).toContain(line);
    expect(typeOf({ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }] })).toBe('string | string[] | null');
  });
});
