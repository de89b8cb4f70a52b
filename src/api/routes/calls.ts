import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { NotFoundError, UnavailableError } from '../../errors/index.ts';
import type { NumberService } from '../../numbers/index.ts';
import type { CallRecord, CallsRepository, NumberRecord } from '../../store/index.ts';
import type { CallManager } from '../../voice/index.ts';
import { principalOf } from '../auth.ts';
import { errorResponses, NumberIdParams } from '../schemas.ts';

const CallStatusSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('ringing'),
  Type.Literal('in-progress'),
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('canceled'),
  Type.Literal('refused'),
]);

const CallView = Type.Object({
  id: Type.String({ examples: ['call_4kQ9xV2m8tZr'] }),
  numberId: Type.String(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
  from: Type.String(),
  to: Type.String(),
  status: CallStatusSchema,
  endReason: Type.Union([Type.String(), Type.Null()]),
  sipStatus: Type.Union([Type.Integer(), Type.Null()]),
  turns: Type.Integer(),
  durationSeconds: Type.Union([Type.Integer(), Type.Null()]),
  billableMinutes: Type.Integer(),
  createdAt: Type.String(),
  answeredAt: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.Union([Type.String(), Type.Null()]),
});

function toView(c: CallRecord, n: NumberRecord) {
  const inbound = c.direction === 'inbound';
  return {
    id: c.id,
    numberId: c.numberId,
    direction: c.direction,
    from: inbound ? c.contact : n.phoneNumber,
    to: inbound ? n.phoneNumber : c.contact,
    status: c.status,
    endReason: c.endReason,
    sipStatus: c.sipStatus,
    turns: c.turns,
    durationSeconds: c.durationMs === null ? null : Math.round(c.durationMs / 1000),
    billableMinutes: c.billableMinutes,
    createdAt: c.createdAt,
    answeredAt: c.answeredAt,
    endedAt: c.endedAt,
  };
}

export interface CallsRoutesOptions {
  numbers: NumberService;
  calls: CallsRepository;
  /** Absent when voice is not configured: placing calls answers 503. */
  manager: CallManager | undefined;
}

const CallParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), callId: Type.String({ minLength: 1, maxLength: 64 }) });

export const callsRoutes: FastifyPluginAsyncTypebox<CallsRoutesOptions> = async (app, { numbers, calls, manager }) => {
  const callOf = (numberId: string, callId: string) => {
    const c = calls.get(callId);
    if (!c || c.numberId !== numberId) throw new NotFoundError(`Call ${callId} not found`);
    return c;
  };

  app.post(
    '/numbers/:id/calls',
    {
      schema: {
        summary: 'Place a voice call from this number; the agent talks when it is answered',
        tags: ['calls'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        body: Type.Object({
          to: Type.String({ description: 'E.164 number to call' }),
          greeting: Type.Optional(Type.String({ maxLength: 1000, description: 'Spoken when the call is answered' })),
          instructions: Type.Optional(Type.String({ maxLength: 8000, description: "Instructions for this call's agent" })),
        }),
        response: { 200: Type.Object({ callId: Type.String(), status: Type.Literal('queued') }), ...errorResponses, 503: errorResponses[500] },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const number = numbers.get(request.params.id, principal);
      if (!manager) throw new UnavailableError('Voice is not configured on this gateway (voice.drachtio in the config)');
      const call = manager.placeCall(number, { ...request.body, apiKeyId: principal.keyId });
      return { callId: call.id, status: 'queued' as const };
    },
  );

  app.get(
    '/numbers/:id/calls',
    {
      schema: {
        summary: "This number's calls, newest first",
        tags: ['calls'],
        security: [{ bearer: [] }],
        params: NumberIdParams,
        querystring: Type.Object({
          status: Type.Optional(CallStatusSchema),
          before: Type.Optional(Type.String({ description: 'createdAt cursor (nextCursor of the previous page)' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        }),
        response: { 200: Type.Object({ calls: Type.Array(CallView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => {
      const number = numbers.get(request.params.id, principalOf(request));
      const limit = request.query.limit ?? 50;
      const list = calls.list(number.id, { limit: limit + 1, ...(request.query.status && { status: request.query.status }), ...(request.query.before && { before: request.query.before }) });
      const page = list.slice(0, limit);
      return { calls: page.map((c) => toView(c, number)), nextCursor: list.length > limit ? (page[page.length - 1]?.createdAt ?? null) : null };
    },
  );

  app.get(
    '/numbers/:id/calls/:callId',
    {
      schema: { summary: 'One call', tags: ['calls'], security: [{ bearer: [] }], params: CallParams, response: { 200: CallView, ...errorResponses } },
    },
    async (request) => {
      const number = numbers.get(request.params.id, principalOf(request));
      return toView(callOf(number.id, request.params.callId), number);
    },
  );

  app.post(
    '/numbers/:id/calls/:callId/hangup',
    {
      schema: { summary: 'End a call (or cancel one still ringing)', tags: ['calls'], security: [{ bearer: [] }], params: CallParams, response: { 200: CallView, ...errorResponses } },
    },
    async (request) => {
      const number = numbers.get(request.params.id, principalOf(request));
      const call = callOf(number.id, request.params.callId);
      await manager?.hangup(call.id);
      return toView(calls.get(call.id) as CallRecord, number);
    },
  );
};
