import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import Type from 'typebox';

export interface HealthReport {
  status: 'ok' | 'degraded';
  [component: string]: unknown;
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ metrics: Registry; health: () => HealthReport }> = async (
  app,
  { metrics, health },
) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness and component status',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.String() }, { additionalProperties: true }) },
      },
    },
    async () => health(),
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'], hide: false } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
};
