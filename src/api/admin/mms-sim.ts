import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { UnavailableError, ValidationError } from '../../errors/index.ts';
import { ALLOWED_MEDIA_TYPES, normalizeType, sniffType, type MmsService, type VirtualMmsc } from '../../mms/index.ts';
import type { VirtualNetwork } from '../../modem/index.ts';
import { errorResponses } from '../schemas.ts';

const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$' });
const MediaFile = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  contentType: Type.Optional(Type.String({ maxLength: 128 })),
  /** The file's bytes, base64. */
  data: Type.String({ minLength: 1 }),
});

export interface AdminMmsSimOptions {
  mmsc: VirtualMmsc | undefined;
  network: VirtualNetwork | undefined;
  /** For GET /mms/inbound-problems (absent: the route is not offered). */
  service?: Pick<MmsService, 'inboundProblems'>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * POST /sim/mms, GET /sim/mms-inbox — a virtual subscriber's MMS — and GET /mms/inbound-problems
 * (real lines too: WAP pushes kept undecoded, MMS nothing can fetch), under /admin.
 */
export const adminMmsSimRoutes: FastifyPluginAsyncTypebox<AdminMmsSimOptions> = async (app, { mmsc, network, service }) => {
  if (service) {
    app.get(
      '/mms/inbound-problems',
      {
        schema: {
          summary: 'WAP pushes kept because they could not be used (bytes in hex), and MMS notifications on lines without MMS',
          tags: ['admin'],
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) }),
          response: {
            200: Type.Object({
              rawPushes: Type.Object({
                count: Type.Integer(),
                items: Type.Array(
                  Type.Object({
                    id: Type.Integer(),
                    line: Type.String(),
                    reason: Type.String(),
                    errorCode: Type.Union([Type.String(), Type.Null()]),
                    errorAt: Type.Union([Type.Integer(), Type.Null()]),
                    size: Type.Integer(),
                    hex: Type.String(),
                    receivedAt: Type.String(),
                  }),
                ),
              }),
              unfetchable: Type.Object({
                count: Type.Integer(),
                items: Type.Array(
                  Type.Object({ id: Type.Integer(), line: Type.String(), sender: Type.Union([Type.String(), Type.Null()]), size: Type.Union([Type.Integer(), Type.Null()]), receivedAt: Type.String() }),
                ),
              }),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const { rawPushes, unfetchable } = service.inboundProblems(request.query.limit ?? 50);
        return {
          rawPushes: {
            count: rawPushes.count,
            items: rawPushes.items.map((p) => ({
              id: p.id,
              line: p.lineId,
              reason: p.reason,
              errorCode: p.errorCode,
              errorAt: p.errorAt,
              size: p.data.length,
              hex: Buffer.from(p.data).toString('hex'),
              receivedAt: iso(p.createdAt),
            })),
          },
          unfetchable: {
            count: unfetchable.count,
            items: unfetchable.items.map((n) => ({ id: n.id, line: n.lineId, sender: n.sender, size: n.size, receivedAt: iso(n.createdAt) })),
          },
        };
      },
    );
  }

  const require = (): { mmsc: VirtualMmsc; network: VirtualNetwork } => {
    if (!mmsc || !network) throw new UnavailableError('No virtual MMSC is running: the gateway uses real modems, or virtual.mms.enabled is false');
    return { mmsc, network };
  };

  app.post(
    '/sim/mms',
    {
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        summary: 'A virtual subscriber sends an MMS (text and files) to a virtual line',
        tags: ['admin'],
        body: Type.Object({ from: E164, to: E164, body: Type.Optional(Type.String({ maxLength: 10_000 })), media: Type.Array(MediaFile, { maxItems: 10 }) }),
        response: { 202: Type.Object({ queued: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const sim = require();
      const { from, to, body, media } = request.body;
      if (!sim.network.lines().some((line) => line.number === to)) throw new ValidationError('"to" is not a virtual line\'s number');
      const files = media.map((m, i) => {
        const data = new Uint8Array(Buffer.from(m.data, 'base64'));
        const type = sniffType(data) ?? normalizeType(m.contentType);
        if (!ALLOWED_MEDIA_TYPES.has(type)) throw new ValidationError(`media[${i}]: content type "${type || 'unknown'}" cannot be sent by MMS`);
        return { name: m.name, contentType: type, data };
      });
      if (files.length === 0 && !body) throw new ValidationError('body: required unless media is given');
      sim.mmsc.subscriberSend(from, to, body ?? '', files);
      return reply.code(202).send({ queued: true });
    },
  );

  app.get(
    '/sim/mms-inbox',
    {
      schema: {
        summary: 'The MMS a virtual subscriber phone has received (media as base64)',
        tags: ['admin'],
        querystring: Type.Object({ phone: E164 }),
        response: {
          200: Type.Object({
            phone: Type.String(),
            messages: Type.Array(
              Type.Object({
                from: Type.String(),
                body: Type.String(),
                receivedAt: Type.String(),
                media: Type.Array(Type.Object({ contentType: Type.String(), name: Type.Union([Type.String(), Type.Null()]), size: Type.Integer(), data: Type.String() })),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      phone: request.query.phone,
      messages: require()
        .mmsc.inbox(request.query.phone)
        .map((m) => ({
          from: m.from,
          body: m.text,
          receivedAt: m.receivedAt,
          media: m.media.map((f) => ({ contentType: f.contentType, name: f.name, size: f.data.length, data: Buffer.from(f.data).toString('base64') })),
        })),
    }),
  );
};
