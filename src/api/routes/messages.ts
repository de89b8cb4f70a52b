import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ValidationError } from '../../errors/index.ts';
import type { MessageQuery, SendService } from '../../messaging/index.ts';
import type { UsageLedger } from '../../metering/index.ts';
import { isLedgerMonth, ledgerMonth } from '../../metering/index.ts';
import type { NumberService } from '../../numbers/index.ts';
import type { Clock } from '../../clock/index.ts';
import { principalOf } from '../auth.ts';
import { ErrorSchema, errorResponses, NumberIdParams } from '../schemas.ts';

const SendBody = Type.Object(
  {
    to: Type.String({ description: 'E.164 recipient, e.g. +15559876543' }),
    body: Type.Optional(Type.String({ description: 'Message text; may be empty when media is given' })),
    media: Type.Optional(
      Type.Array(Type.String(), { description: 'Public http(s) media URLs (at most media.maxPerMessage, default 10, of media.maxUrlLength characters, default 2048); makes the message an MMS' }),
    ),
    smart: Type.Optional(Type.Boolean({ description: 'Replace Unicode look-alikes so the text stays GSM-7' })),
  },
  { additionalProperties: true },
);

const SendResponse = Type.Object({
  messageId: Type.String(),
  status: Type.Literal('queued'),
  to: Type.String(),
  body: Type.String(),
});

const ErrorOrNull = Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]);

export const MessageView = Type.Object({
  id: Type.String(),
  numberId: Type.String(),
  direction: Type.String(),
  channel: Type.String(),
  from: Type.String(),
  to: Type.String(),
  body: Type.String(),
  media: Type.Array(Type.String()),
  status: Type.String(),
  encoding: Type.Union([Type.String(), Type.Null()]),
  segments: Type.Integer(),
  partial: Type.Boolean(),
  missingParts: Type.Array(Type.Integer()),
  error: ErrorOrNull,
  createdAt: Type.String(),
  sentAt: Type.Union([Type.String(), Type.Null()]),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  data: Type.Optional(
    Type.Object(
      {
        encoding: Type.Literal('base64'),
        bytes: Type.String(),
        ports: Type.Union([Type.Object({ source: Type.Integer(), destination: Type.Integer() }), Type.Null()]),
      },
      { description: 'Inbound data (8-bit) or port-addressed SMS only: the payload in base64 (empty for text) and the UDH ports' },
    ),
  ),
  parts: Type.Optional(
    Type.Array(
      Type.Object({
        seq: Type.Integer(),
        status: Type.String(),
        messageRef: Type.Union([Type.Integer(), Type.Null()]),
        attempts: Type.Integer(),
        sentAt: Type.Union([Type.String(), Type.Null()]),
        report: Type.Union([Type.Object({ status: Type.Integer(), at: Type.String() }), Type.Null()]),
        error: ErrorOrNull,
      }),
    ),
  ),
});

const UsageLine = {
  unit: Type.String(),
  included: Type.Number(),
  used: Type.Number(),
  overage: Type.Number(),
  overageRate: Type.Number(),
  overageCost: Type.Number(),
};

export const UsageReportSchema = Type.Object({
  numberId: Type.String(),
  phoneNumber: Type.String(),
  month: Type.String(),
  currency: Type.Literal('USD'),
  baseFee: Type.Number(),
  overageEnabled: Type.Boolean(),
  sms: Type.Object({ ...UsageLine, outbound: Type.Number(), inbound: Type.Number() }),
  voice: Type.Object(UsageLine),
  total: Type.Number(),
});

const ListQuery = Type.Object({
  direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
  status: Type.Optional(
    Type.Union(['queued', 'sending', 'sent', 'delivered', 'failed', 'received'].map((s) => Type.Literal(s))),
  ),
  contact: Type.Optional(Type.String({ description: 'The other party, E.164 or an alphanumeric sender' })),
  since: Type.Optional(Type.String({ description: 'ISO 8601, inclusive' })),
  until: Type.Optional(Type.String({ description: 'ISO 8601, exclusive' })),
  cursor: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});

export interface MessagesRoutesOptions {
  send: SendService;
  query: MessageQuery;
  numbers: NumberService;
  ledger: UsageLedger;
  clock: Clock;
}

export const messagesRoutes: FastifyPluginAsyncTypebox<MessagesRoutesOptions> = async (app, { send, query, numbers, ledger, clock }) => {
  app.post(
    '/numbers/:id/send/sms',
    {
      schema: {
        summary: 'Send an SMS (or MMS, with media) from this number',
        tags: ['messages'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
        body: SendBody,
        response: { 200: SendResponse, ...errorResponses, 403: ErrorSchema, 503: errorResponses[500] },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { response, replayed } = await send.send(principalOf(request), request.params.id, request.body, key);
      if (replayed) void reply.header('Idempotent-Replayed', 'true');
      return response;
    },
  );

  app.get(
    '/numbers/:id/messages',
    {
      schema: {
        summary: "This number's messages, both directions, newest first",
        tags: ['messages'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        querystring: ListQuery,
        response: { 200: Type.Object({ messages: Type.Array(MessageView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => query.list(principalOf(request), request.params.id, request.query as Parameters<MessageQuery['list']>[2]),
  );

  app.get(
    '/numbers/:id/messages/:messageId',
    {
      schema: {
        summary: 'One message with its parts, status, encoding, error and delivery reports',
        tags: ['messages'],
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String(), messageId: Type.String() }),
        response: { 200: MessageView, ...errorResponses },
      },
    },
    async (request) => query.get(principalOf(request), request.params.id, request.params.messageId),
  );

  app.get(
    '/numbers/:id/usage',
    {
      schema: {
        summary: "This number's usage and cost for a month (UTC)",
        tags: ['usage'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        querystring: Type.Object({ month: Type.Optional(Type.String({ description: 'YYYY-MM; this month by default' })) }),
        response: { 200: UsageReportSchema, ...errorResponses },
      },
    },
    async (request) => {
      const month = request.query.month ?? ledgerMonth(clock.now());
      if (!isLedgerMonth(month)) throw new ValidationError('month: must be YYYY-MM');
      return ledger.report(numbers.get(request.params.id, principalOf(request)), month);
    },
  );
};
