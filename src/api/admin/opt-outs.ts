import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { auditCsv, type OptOutService } from '../../compliance/index.ts';
import { NotFoundError } from '../../errors/index.ts';
import type { NumberService } from '../../numbers/index.ts';
import type { OptOutAuditRecord } from '../../store/index.ts';
import { errorResponses, NumberIdParams } from '../schemas.ts';

const Source = Type.Union([Type.Literal('keyword'), Type.Literal('admin')]);
const State = Type.Union([Type.Literal('opted_out'), Type.Literal('opted_in')]);

const OptOutView = Type.Object({
  numberId: Type.String(),
  contact: Type.String({ description: 'E.164, or an alphanumeric sender' }),
  state: State,
  source: Source,
  keyword: Type.Union([Type.String(), Type.Null()], { description: 'The keyword the contact sent (upper case), for source keyword' }),
  actor: Type.String({ description: '`contact`, or who made the admin change (`cli:alice`, `dashboard`, `admin-api`)' }),
  updatedAt: Type.String(),
});

const AuditView = Type.Object({
  at: Type.String(),
  numberId: Type.String(),
  phoneNumber: Type.String(),
  contact: Type.String(),
  action: Type.Union([Type.Literal('opt_out'), Type.Literal('opt_in')]),
  source: Source,
  keyword: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String(),
  note: Type.Union([Type.String(), Type.Null()]),
});

const ChangeBody = Type.Object({
  by: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Who makes the change, for the audit log (default admin-api)' })),
  note: Type.Optional(Type.String({ maxLength: 500, description: 'Why, for the audit log' })),
});

const ContactParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  contact: Type.String({ minLength: 1, maxLength: 40, description: 'URL-encoded: %2B15557654321' }),
});

const AuditQuery = Type.Object({
  numberId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  contact: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 })),
});

export const adminOptOutRoutes: FastifyPluginAsyncTypebox<{ optOuts: OptOutService; numbers: NumberService }> = async (app, { optOuts, numbers }) => {
  const auditRows = async (q: { numberId?: string | undefined; contact?: string | undefined; limit?: number | undefined }) => {
    if (q.numberId !== undefined) numbers.get(q.numberId);
    const [all, entries] = await Promise.all([numbers.list(), optOuts.audit({ numberId: q.numberId, contact: q.contact, limit: q.limit ?? 10_000 })]);
    const phones = new Map(all.map((n) => [n.id, n.phoneNumber]));
    return entries.map((a: OptOutAuditRecord) => ({
      at: a.at,
      numberId: a.numberId,
      phoneNumber: phones.get(a.numberId) ?? '',
      contact: a.contact,
      action: a.action,
      source: a.source,
      keyword: a.keyword,
      actor: a.actor,
      note: a.note,
    }));
  };

  app.get(
    '/opt-outs',
    {
      schema: {
        summary: 'Opt-out states, newest change first (state=opted_out: who may not be texted or called)',
        tags: ['admin'],
        querystring: Type.Object({
          numberId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          state: Type.Optional(State),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
        }),
        response: { 200: Type.Object({ optOuts: Type.Array(OptOutView) }), ...errorResponses },
      },
    },
    async (request) => {
      const { numberId, state, limit } = request.query;
      if (numberId !== undefined) numbers.get(numberId);
      return { optOuts: await optOuts.list({ numberId, state, limit: limit ?? 1000 }) };
    },
  );

  app.get(
    '/opt-outs/audit',
    { schema: { summary: 'Every opt-out and opt-in, oldest first: who, when, which keyword or admin action', tags: ['admin'], querystring: AuditQuery, response: { 200: Type.Object({ entries: Type.Array(AuditView) }), ...errorResponses } } },
    async (request) => ({ entries: await auditRows(request.query) }),
  );

  app.get(
    '/opt-outs/audit.csv',
    { schema: { summary: 'The opt-out audit log as CSV', tags: ['admin'], querystring: AuditQuery } },
    async (request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="agentphone-opt-outs.csv"')
        .send(auditCsv(await auditRows(request.query))),
  );

  app.get(
    '/numbers/:id/opt-outs/:contact',
    { schema: { summary: "A contact's opt-out state for the number", tags: ['admin'], params: ContactParams, response: { 200: OptOutView, ...errorResponses } } },
    async (request) => {
      const number = numbers.get(request.params.id);
      const state = await optOuts.get(number.id, request.params.contact);
      if (!state) throw new NotFoundError(`${request.params.contact} never opted out of ${number.phoneNumber} (${number.id})`);
      return state;
    },
  );

  app.post(
    '/numbers/:id/opt-outs',
    {
      schema: {
        summary: 'Opt a contact out of the number (sends and calls to them are refused with 403)',
        tags: ['admin'],
        params: NumberIdParams,
        body: Type.Intersect([Type.Object({ contact: Type.String({ minLength: 1, maxLength: 40 }) }), ChangeBody]),
        response: { 200: OptOutView, ...errorResponses },
      },
    },
    async (request) => optOuts.adminOptOut(request.params.id, request.body.contact, { actor: request.body.by, note: request.body.note }),
  );

  app.delete(
    '/numbers/:id/opt-outs/:contact',
    {
      schema: {
        summary: "Remove a contact's opt-out (they can be texted again); 404 when not opted out",
        tags: ['admin'],
        params: ContactParams,
        body: Type.Optional(ChangeBody),
        response: { 200: OptOutView, ...errorResponses },
      },
    },
    async (request) => optOuts.adminOptIn(request.params.id, request.params.contact, { actor: request.body?.by, note: request.body?.note }),
  );
};
