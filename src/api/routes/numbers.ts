import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { NumberService } from '../../numbers/index.ts';
import { toNumberView } from '../../numbers/index.ts';
import { principalOf } from '../auth.ts';
import { errorResponses, NumberIdParams, NumberViewSchema } from '../schemas.ts';

export const numbersRoutes: FastifyPluginAsyncTypebox<{ numbers: NumberService }> = async (app, { numbers }) => {
  app.get(
    '/numbers',
    {
      schema: {
        summary: 'List the numbers this API key can use',
        tags: ['numbers'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ numbers: Type.Array(NumberViewSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ numbers: (await numbers.list(principalOf(request))).map(toNumberView) }),
  );

  app.get(
    '/numbers/:id',
    {
      schema: {
        summary: 'One number',
        tags: ['numbers'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        response: { 200: NumberViewSchema, ...errorResponses },
      },
    },
    async (request) => toNumberView(numbers.get(request.params.id, principalOf(request))),
  );
};
