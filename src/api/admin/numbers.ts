import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { NumberRecord } from '../../store/index.ts';
import type { NumberService } from '../../numbers/index.ts';
import { toNumberView } from '../../numbers/index.ts';
import { errorResponses, NumberIdParams, NumberViewSchema } from '../schemas.ts';

const WebhookView = Type.Object({
  numberId: Type.String(),
  url: Type.Union([Type.String(), Type.Null()]),
  timeoutMs: Type.Integer(),
  secret: Type.String(),
});

function webhookView(n: NumberRecord) {
  return { numberId: n.id, url: n.webhookUrl, timeoutMs: n.webhookTimeoutMs, secret: n.webhookSecret };
}

export const adminNumbersRoutes: FastifyPluginAsyncTypebox<{ numbers: NumberService }> = async (app, { numbers }) => {
  app.get(
    '/numbers',
    {
      schema: { summary: 'All numbers', tags: ['admin'], response: { 200: Type.Object({ numbers: Type.Array(NumberViewSchema) }) } },
    },
    async () => ({ numbers: (await numbers.list()).map(toNumberView) }),
  );

  app.get(
    '/numbers/:id/webhook',
    {
      schema: { summary: "A number's webhook and its signing secret", tags: ['admin'], params: NumberIdParams, response: { 200: WebhookView, ...errorResponses } },
    },
    async (request) => webhookView(numbers.get(request.params.id)),
  );

  app.put(
    '/numbers/:id/webhook',
    {
      schema: {
        summary: "Set a number's webhook URL (null removes it) and timeout",
        tags: ['admin'],
        params: NumberIdParams,
        body: Type.Object({
          url: Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()]),
          timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
        }),
        response: { 200: WebhookView, ...errorResponses },
      },
    },
    async (request) => webhookView(await numbers.setWebhook(request.params.id, request.body)),
  );

  app.post(
    '/numbers/:id/webhook/rotate-secret',
    {
      schema: { summary: 'Replace the webhook signing secret', tags: ['admin'], params: NumberIdParams, response: { 200: WebhookView, ...errorResponses } },
    },
    async (request) => webhookView(await numbers.rotateWebhookSecret(request.params.id)),
  );
};
