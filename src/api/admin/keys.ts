import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ApiKeyService } from '../../auth/index.ts';
import { errorResponses } from '../schemas.ts';

const KeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  numbers: Type.Union([Type.Array(Type.String()), Type.Literal('all')]),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

/** POST /admin/keys's body (the CLI's offline path checks it too). */
export const KeyCreateBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 100 })),
  numbers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 1000 })),
});

export const adminKeysRoutes: FastifyPluginAsyncTypebox<{ keys: ApiKeyService }> = async (app, { keys }) => {
  app.post(
    '/keys',
    {
      schema: {
        summary: 'Create an API key (the key is shown only in this response)',
        tags: ['admin'],
        body: KeyCreateBody,
        response: { 201: Type.Intersect([KeyView, Type.Object({ key: Type.String() })]), ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      return reply.status(201).send(await keys.create({ name: body.name, numberIds: body.numbers }));
    },
  );

  app.get(
    '/keys',
    { schema: { summary: 'List API keys', tags: ['admin'], response: { 200: Type.Object({ keys: Type.Array(KeyView) }) } } },
    async () => ({ keys: await keys.list() }),
  );

  app.post(
    '/keys/:id/revoke',
    {
      schema: {
        summary: 'Revoke an API key; takes effect on the next request',
        tags: ['admin'],
        params: Type.Object({ id: Type.String() }),
        response: { 200: KeyView, ...errorResponses },
      },
    },
    async (request) => keys.revoke(request.params.id),
  );
};
