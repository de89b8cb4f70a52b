import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Clock } from '../../clock/index.ts';
import { NotFoundError, ValidationError } from '../../errors/index.ts';
import { decodeCursor, encodeCursor, toMessageView, type MessageView as MessageViewData } from '../../messaging/index.ts';
import { isLedgerMonth, ledgerMonth, type UsageLedger } from '../../metering/index.ts';
import { toNumberView, type NumberService } from '../../numbers/index.ts';
import type { DashboardRepository, MessagesRepository, NumberRecord, OutboxEvent, OutboxRepository } from '../../store/index.ts';
import { MessageView, UsageReportSchema } from '../routes/messages.ts';
import { errorResponses, NumberIdParams, NumberViewSchema } from '../schemas.ts';
import { every, SseHub } from './dashboard-sse.ts';
import { deliveryView, DeliveryView } from './webhooks.ts';
import { usageCsv } from './dashboard-csv.ts';

export interface AdminDashboardRoutesOptions {
  numbers: NumberService;
  messages: MessagesRepository;
  outbox: OutboxRepository;
  dashboard: DashboardRepository;
  ledger: UsageLedger;
  clock: Clock;
  /** How often the message stream looks for new and changed messages. */
  liveIntervalMs: number;
}

const MessageFilterQuery = Type.Object({
  numberId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
  status: Type.Optional(Type.Union(['queued', 'sending', 'sent', 'delivered', 'failed', 'received'].map((s) => Type.Literal(s)))),
  contact: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'Text or contact contains this (case-insensitive)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});

const MonthQuery = Type.Object({ month: Type.Optional(Type.String({ description: 'YYYY-MM (UTC); this month by default' })) });

const Conversation = Type.Object({
  numberId: Type.String(),
  phoneNumber: Type.String(),
  contact: Type.String(),
  messages: Type.Integer(),
  lastAt: Type.String(),
  last: MessageView,
});

const DayUsage = Type.Object({ date: Type.String(), segmentsOut: Type.Number(), segmentsIn: Type.Number(), voiceMinutes: Type.Number() });

const Overview = Type.Object({
  month: Type.String(),
  today: Type.Object({ date: Type.String(), inbound: Type.Integer(), outbound: Type.Integer() }),
  webhooks: Type.Object({ dead: Type.Integer(), retrying: Type.Integer(), held: Type.Integer() }),
  quota: Type.Array(
    Type.Object({
      numberId: Type.String(),
      phoneNumber: Type.String(),
      overageEnabled: Type.Boolean(),
      segmentsUsed: Type.Number(),
      segmentsIncluded: Type.Number(),
      minutesUsed: Type.Number(),
      minutesIncluded: Type.Number(),
    }),
  ),
});

/** Admin read models and settings the dashboard needs, on the store alone (no modems). */
export const adminDashboardRoutes: FastifyPluginAsyncTypebox<AdminDashboardRoutesOptions> = async (app, opts) => {
  const hub = new SseHub(app);
  const numberCache = () => new Map(opts.numbers.list().map((n) => [n.id, n]));
  const view = (id: string, numbers: Map<string, NumberRecord>, withParts = false): MessageViewData | undefined => {
    const m = opts.messages.get(id);
    const n = m && numbers.get(m.numberId);
    return m && n ? toMessageView(m, n, withParts ? opts.messages.parts(m.id) : undefined) : undefined;
  };
  const monthOf = (given: string | undefined) => {
    const month = given ?? ledgerMonth(opts.clock.now());
    if (!isLedgerMonth(month)) throw new ValidationError('month: must be YYYY-MM');
    return month;
  };

  app.get(
    '/dashboard/overview',
    { schema: { summary: "Today's message counts, webhook trouble and this month's quota use", tags: ['dashboard'], response: { 200: Overview } } },
    async () => {
      const now = opts.clock.now();
      const month = ledgerMonth(now);
      const date = new Date(now).toISOString().slice(0, 10);
      return {
        month,
        today: { date, ...opts.dashboard.countSince(`${date}T00:00:00.000Z`) },
        webhooks: opts.dashboard.webhookTrouble(),
        quota: opts.numbers.list().map((n) => {
          const r = opts.ledger.report(n, month);
          return {
            numberId: n.id,
            phoneNumber: n.phoneNumber,
            overageEnabled: n.overageEnabled,
            segmentsUsed: r.sms.used,
            segmentsIncluded: r.sms.included,
            minutesUsed: r.voice.used,
            minutesIncluded: r.voice.included,
          };
        }),
      };
    },
  );

  app.get(
    '/messages',
    {
      schema: {
        summary: 'Messages across numbers, newest first, with filters',
        tags: ['dashboard'],
        querystring: MessageFilterQuery,
        response: { 200: Type.Object({ messages: Type.Array(MessageView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (q.cursor !== undefined && !before) throw new ValidationError('cursor: not a cursor this API returned');
      const limit = q.limit ?? 50;
      const numbers = numberCache();
      const ids = opts.dashboard.messageIds({ ...q, search: q.q, before, limit: limit + 1 });
      const messages = ids.slice(0, limit).flatMap((id) => view(id, numbers) ?? []);
      const last = messages.at(-1);
      return { messages, nextCursor: ids.length > limit && last ? encodeCursor(last) : null };
    },
  );

  app.get(
    '/messages/stream',
    { schema: { summary: 'Server-sent events: "message" with each new or changed message', tags: ['dashboard'], hide: true } },
    async (request, reply) => {
      const stream = hub.open(request, reply);
      // Ids heard of since the last tick, sent as one batch per interval (a burst of status
      // changes to one message becomes one event).
      const changed = new Set<string>();
      stream.onClose(opts.messages.onChange((id) => changed.add(id)));
      stream.send('ready', { since: new Date().toISOString() });
      every(stream, opts.liveIntervalMs, () => {
        if (changed.size === 0) return;
        const ids = [...changed];
        changed.clear();
        const numbers = numberCache();
        for (const id of ids) {
          const m = view(id, numbers);
          if (m) stream.send('message', m);
        }
      });
    },
  );

  app.get(
    '/messages/:messageId',
    {
      schema: {
        summary: 'One message with its parts (PDU-level status) and the webhook deliveries about it',
        tags: ['dashboard'],
        params: Type.Object({ messageId: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: {
          200: Type.Object({ message: MessageView, number: NumberViewSchema, deliveries: Type.Array(DeliveryView) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const id = request.params.messageId;
      const numbers = numberCache();
      const message = view(id, numbers, true);
      if (!message) throw new NotFoundError(`Message ${id} not found`);
      const deliveries = opts.dashboard.deliveryIdsFor(id).flatMap((d) => opts.outbox.get(d) ?? []) as OutboxEvent[];
      return { message, number: toNumberView(numbers.get(message.numberId) as NumberRecord), deliveries: deliveries.map(deliveryView) };
    },
  );

  app.get(
    '/conversations',
    {
      schema: {
        summary: 'Conversations: one per number and contact, most recent first',
        tags: ['dashboard'],
        querystring: Type.Object({
          numberId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
        }),
        response: { 200: Type.Object({ conversations: Type.Array(Conversation) }), ...errorResponses },
      },
    },
    async (request) => {
      const numbers = numberCache();
      const rows = opts.dashboard.conversations(request.query.numberId, request.query.limit ?? 100);
      return {
        conversations: rows.flatMap((c) => {
          const last = view(c.lastMessageId, numbers);
          const n = numbers.get(c.numberId);
          return last && n ? [{ ...c, phoneNumber: n.phoneNumber, last }] : [];
        }),
      };
    },
  );

  app.get(
    '/usage/daily',
    {
      schema: {
        summary: 'Per number: the month report, and per UTC day SMS segments (from the messages) and voice minutes (from the calls)',
        tags: ['dashboard'],
        querystring: MonthQuery,
        response: {
          200: Type.Object({
            month: Type.String(),
            numbers: Type.Array(Type.Object({ report: UsageReportSchema, days: Type.Array(DayUsage) })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const month = monthOf(request.query.month);
      return {
        month,
        numbers: opts.numbers.list().map((n) => ({
          report: opts.ledger.report(n, month),
          days: opts.dashboard.dailyTotals(n.id, month).map((d) => ({ date: d.date, segmentsOut: d.outbound, segmentsIn: d.inbound, voiceMinutes: d.minutes })),
        })),
      };
    },
  );

  app.get(
    '/usage/export.csv',
    { schema: { summary: 'Usage of every number for a month as CSV: one row per day, then a total row', tags: ['dashboard'], querystring: MonthQuery } },
    async (request, reply) => {
      const month = monthOf(request.query.month);
      const rows = opts.numbers.list().map((n) => ({ report: opts.ledger.report(n, month), days: opts.dashboard.dailyTotals(n.id, month) }));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="agentphone-usage-${month}.csv"`)
        .send(usageCsv(rows));
    },
  );

  app.patch(
    '/numbers/:id/settings',
    {
      schema: {
        summary: "Change a number's settings (the overage switch)",
        tags: ['dashboard'],
        params: NumberIdParams,
        body: Type.Object({ overageEnabled: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: NumberViewSchema, ...errorResponses },
      },
    },
    async (request) => toNumberView(opts.numbers.setOverage(request.params.id, request.body.overageEnabled)),
  );
};
