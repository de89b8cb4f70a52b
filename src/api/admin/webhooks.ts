import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Clock } from '../../clock/index.ts';
import { NotFoundError, ValidationError } from '../../errors/index.ts';
import { isLedgerMonth, ledgerMonth, type UsageLedger } from '../../metering/index.ts';
import type { NumberService } from '../../numbers/index.ts';
import type { OutboxEvent, OutboxRepository } from '../../store/index.ts';
import type { WebhookDispatcher } from '../../webhooks/index.ts';
import { UsageReportSchema } from '../routes/messages.ts';
import { errorResponses, NumberIdParams } from '../schemas.ts';

export const DeliveryView = Type.Object({
  id: Type.String(),
  numberId: Type.String(),
  event: Type.String(),
  messageId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  /** What the endpoint answered to the delivery that succeeded (an excerpt). */
  lastAnswer: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  /** Worth delivering again by hand: dead, or still pending after a failed attempt (the dashboard offers Redeliver only for these). */
  redeliverable: Type.Boolean(),
});

export function deliveryView(e: OutboxEvent) {
  return {
    id: e.id,
    numberId: e.numberId,
    event: e.event,
    messageId: e.messageId,
    status: e.status,
    attempts: e.attempts,
    nextAttemptAt: e.status === 'pending' ? new Date(e.nextAttemptAt).toISOString() : null,
    lastStatus: e.lastStatus,
    lastError: e.lastError,
    lastAnswer: e.lastAnswer,
    createdAt: e.createdAt,
    deliveredAt: e.deliveredAt,
    redeliverable: e.status === 'dead' || (e.status === 'pending' && e.attempts > 0),
  };
}

export interface AdminWebhookRoutesOptions {
  numbers: NumberService;
  outbox: OutboxRepository;
  webhooks: WebhookDispatcher;
  ledger: UsageLedger;
  clock: Clock;
}

export const adminWebhookRoutes: FastifyPluginAsyncTypebox<AdminWebhookRoutesOptions> = async (app, opts) => {
  app.get(
    '/numbers/:id/deliveries',
    {
      schema: {
        summary: "A number's webhook deliveries, newest first (status=dead for the dead letters, held for those waiting for a URL)",
        tags: ['admin'],
        params: NumberIdParams,
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('held'), Type.Literal('delivered'), Type.Literal('dead')])),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
        }),
        response: { 200: Type.Object({ deliveries: Type.Array(DeliveryView) }), ...errorResponses },
      },
    },
    async (request) => {
      const number = opts.numbers.get(request.params.id);
      const events = await opts.outbox.listForNumber(number.id, request.query.status ?? null, request.query.limit ?? 50);
      return { deliveries: events.map(deliveryView) };
    },
  );

  app.post(
    '/deliveries/:id/redeliver',
    {
      schema: {
        summary: 'Deliver a webhook event again (a dead letter, or one already delivered)',
        tags: ['admin'],
        params: Type.Object({ id: Type.String() }),
        response: { 200: DeliveryView, ...errorResponses },
      },
    },
    async (request) => {
      if (!(await opts.webhooks.redeliver(request.params.id))) throw new NotFoundError(`No webhook delivery has id "${request.params.id}"`);
      return deliveryView((await opts.outbox.get(request.params.id)) as OutboxEvent);
    },
  );

  app.post(
    '/numbers/:id/webhook/test',
    {
      schema: {
        summary: 'Send a signed webhook.test event now and report what the endpoint answered',
        tags: ['admin'],
        params: NumberIdParams,
        response: {
          200: Type.Object({
            url: Type.String(),
            status: Type.Union([Type.Integer(), Type.Null()]),
            durationMs: Type.Integer(),
            body: Type.String(),
            error: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const number = opts.numbers.get(request.params.id);
      return opts.webhooks.sendTest(number.id, number.phoneNumber);
    },
  );

  app.get(
    '/usage',
    {
      schema: {
        summary: 'Usage and cost of every number for a month (UTC)',
        tags: ['admin'],
        querystring: Type.Object({ month: Type.Optional(Type.String()) }),
        response: { 200: Type.Object({ month: Type.String(), numbers: Type.Array(UsageReportSchema), total: Type.Number() }), ...errorResponses },
      },
    },
    async (request) => {
      const month = request.query.month ?? ledgerMonth(opts.clock.now());
      if (!isLedgerMonth(month)) throw new ValidationError('month: must be YYYY-MM');
      const reports = await Promise.all((await opts.numbers.list()).map((n) => opts.ledger.report(n, month)));
      return { month, numbers: reports, total: Math.round(reports.reduce((sum, r) => sum + r.total, 0) * 100) / 100 };
    },
  );
};
