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
  const numberCache = async () => new Map((await opts.numbers.list()).map((n) => [n.id, n]));
  const view = async (id: string, numbers: Map<string, NumberRecord>, withParts = false): Promise<MessageViewData | undefined> => {
    const m = await opts.messages.get(id);
    const n = m && numbers.get(m.numberId);
    return m && n ? toMessageView(m, n, withParts ? await opts.messages.parts(m.id) : undefined) : undefined;
  };
  /** Views of the messages with these ids, in order, leaving out any gone meanwhile. */
  const views = async (ids: readonly string[], numbers: Map<string, NumberRecord>): Promise<MessageViewData[]> =>
    (await Promise.all(ids.map((id) => view(id, numbers)))).flatMap((m) => m ?? []);
  /** Each number's month report and daily totals. */
  const usageRows = async (month: string) =>
    Promise.all(
      (await opts.numbers.list()).map(async (n) => {
        const [report, days] = await Promise.all([opts.ledger.report(n, month), opts.dashboard.dailyTotals(n.id, month)]);
        return { report, days };
      }),
    );
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
      const [today, webhooks, numbers] = await Promise.all([
        opts.dashboard.countSince(`${date}T00:00:00.000Z`),
        opts.dashboard.webhookTrouble(),
        opts.numbers.list(),
      ]);
      return {
        month,
        today: { date, ...today },
        webhooks,
        quota: await Promise.all(numbers.map(async (n) => {
          const r = await opts.ledger.report(n, month);
          return {
            numberId: n.id,
            phoneNumber: n.phoneNumber,
            overageEnabled: n.overageEnabled,
            segmentsUsed: r.sms.used,
            segmentsIncluded: r.sms.included,
            minutesUsed: r.voice.used,
            minutesIncluded: r.voice.included,
          };
        })),
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
      const [numbers, ids] = await Promise.all([numberCache(), opts.dashboard.messageIds({ ...q, search: q.q, before, limit: limit + 1 })]);
      const messages = await views(ids.slice(0, limit), numbers);
      const last = messages.at(-1);
      return { messages, nextCursor: ids.length > limit && last ? encodeCursor(last) : null };
    },
  );

  app.get(
    '/messages/stream',
    { schema: { summary: 'Server-sent events: "message" with each new or changed message (on any node), "resync" when some may have been missed', tags: ['dashboard'], hide: true } },
    async (request, reply) => {
      const stream = hub.open(request, reply);
      // Ids heard of since the last tick, sent as one batch per interval (a burst of status
      // changes to one message becomes one event).
      const changed = new Set<string>();
      stream.onClose(opts.messages.onChange((id) => changed.add(id)));
      // A cluster's bus lost notifications: changes may have been missed, the page reads again.
      stream.onClose(opts.messages.onResync(() => stream.send('resync', { at: new Date().toISOString() })));
      stream.send('ready', { since: new Date().toISOString() });
      every(
        stream,
        opts.liveIntervalMs,
        async () => {
          if (changed.size === 0) return;
          const ids = [...changed];
          changed.clear();
          for (const m of await views(ids, await numberCache())) stream.send('message', m);
        },
        (err) => request.log.warn({ err }, 'dashboard message stream could not read the store'),
      );
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
      const numbers = await numberCache();
      const message = await view(id, numbers, true);
      if (!message) throw new NotFoundError(`Message ${id} not found`);
      const deliveries = (await Promise.all((await opts.dashboard.deliveryIdsFor(id)).map((d) => opts.outbox.get(d)))).filter((d): d is OutboxEvent => d !== undefined);
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
      const [numbers, rows] = await Promise.all([numberCache(), opts.dashboard.conversations(request.query.numberId, request.query.limit ?? 100)]);
      const conversations = await Promise.all(
        rows.map(async (c) => {
          const last = await view(c.lastMessageId, numbers);
          const n = numbers.get(c.numberId);
          return last && n ? [{ ...c, phoneNumber: n.phoneNumber, last }] : [];
        }),
      );
      return { conversations: conversations.flat() };
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
      const rows = await usageRows(month);
      return {
        month,
        numbers: rows.map(({ report, days }) => ({
          report,
          days: days.map((d) => ({ date: d.date, segmentsOut: d.outbound, segmentsIn: d.inbound, voiceMinutes: d.minutes })),
        })),
      };
    },
  );

  app.get(
    '/usage/export.csv',
    { schema: { summary: 'Usage of every number for a month as CSV: one row per day, then a total row', tags: ['dashboard'], querystring: MonthQuery } },
    async (request, reply) => {
      const month = monthOf(request.query.month);
      const rows = await usageRows(month);
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
    async (request) => toNumberView(await opts.numbers.setOverage(request.params.id, request.body.overageEnabled)),
  );
};
