import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { UnavailableError, ValidationError } from '../../errors/index.ts';
import type { ModemPool, VirtualNetwork } from '../../modem/index.ts';
import { errorResponses } from '../schemas.ts';

const LineStatusSchema = Type.Object({
  id: Type.String(),
  state: Type.String(),
  path: Type.Union([Type.String(), Type.Null()]),
  profile: Type.Union([Type.String(), Type.Null()]),
  manufacturer: Type.Union([Type.String(), Type.Null()]),
  model: Type.Union([Type.String(), Type.Null()]),
  imei: Type.Union([Type.String(), Type.Null()]),
  iccid: Type.Union([Type.String(), Type.Null()]),
  number: Type.Union([Type.String(), Type.Null()]),
  signal: Type.Union([Type.Object({ rssi: Type.Integer(), dbm: Type.Integer() }), Type.Null()]),
  registration: Type.String(),
  operator: Type.Union([Type.String(), Type.Null()]),
  queueDepth: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  delivery: Type.Union([Type.Literal('storage'), Type.Literal('direct'), Type.Null()]),
});

const LineEventSchema = Type.Object({
  at: Type.String(),
  type: Type.Union([Type.Literal('state'), Type.Literal('registration'), Type.Literal('error'), Type.Literal('recovered'), Type.Literal('routing')]),
  detail: Type.String(),
  repeated: Type.Integer(),
});

const SubscriberMessageSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  body: Type.String(),
  parts: Type.Integer(),
  complete: Type.Boolean(),
  receivedAt: Type.String(),
});

const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$' });

export interface AdminModemsOptions {
  pool: ModemPool;
  /** The virtual network when the gateway runs virtual lines; the /sim routes answer 503 without it. */
  network?: VirtualNetwork;
}

/** GET /modems, GET /modems/:id/events, POST /sim/text, GET /sim/inbox — register under the /admin prefix. */
export const adminModemsRoutes: FastifyPluginAsyncTypebox<AdminModemsOptions> = async (app, { pool, network }) => {
  const requireNetwork = (): VirtualNetwork => {
    if (!network) throw new UnavailableError('No virtual modem network is running: the gateway uses real modems');
    return network;
  };

  app.get(
    '/modems',
    { schema: { summary: 'Every modem line and its health', tags: ['admin'], response: { 200: Type.Object({ lines: Type.Array(LineStatusSchema) }) } } },
    async () => ({ lines: pool.lines() }),
  );

  app.get(
    '/modems/:id/events',
    {
      schema: {
        summary: "A line's recent events (state, registration, errors and recoveries), oldest first; kept in memory, the last 50",
        tags: ['admin'],
        params: Type.Object({ id: Type.String() }),
        response: { 200: Type.Object({ id: Type.String(), events: Type.Array(LineEventSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ id: request.params.id, events: pool.events(request.params.id) }),
  );

  app.post(
    '/sim/text',
    {
      schema: {
        summary: 'A virtual subscriber texts a number on the virtual network',
        tags: ['admin'],
        body: Type.Object({ from: E164, to: E164, body: Type.String({ minLength: 1, maxLength: 10_000 }) }),
        response: { 202: Type.Object({ queued: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const net = requireNetwork();
      const { from, to, body } = request.body;
      if (!net.lines().some((line) => line.number === to)) throw new ValidationError(`"to" is not a virtual line's number`);
      net.text(from, to, body);
      return reply.code(202).send({ queued: true });
    },
  );

  app.get(
    '/sim/inbox',
    {
      schema: {
        summary: 'What a virtual subscriber phone has received',
        tags: ['admin'],
        querystring: Type.Object({ phone: E164 }),
        response: { 200: Type.Object({ phone: Type.String(), messages: Type.Array(SubscriberMessageSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ phone: request.query.phone, messages: requireNetwork().inbox(request.query.phone) }),
  );
};
