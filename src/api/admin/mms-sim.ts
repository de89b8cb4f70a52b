import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { NotFoundError, UnavailableError, ValidationError } from '../../errors/index.ts';
import { ALLOWED_MEDIA_TYPES, normalizeType, sniffType, type MmsService, type VirtualMmsc } from '../../mms/index.ts';
import type { VirtualNetwork } from '../../modem/index.ts';
import { sendMedia } from '../routes/media.ts';
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

/** The MMS a subscriber phone received, each media part by its URL under /admin (never its bytes). */
export function mmsInboxView(mmsc: VirtualMmsc, phone: string) {
  return mmsc.entries(phone).map((m) => ({
    from: m.from,
    subject: m.subject,
    body: m.text,
    receivedAt: m.receivedAt,
    media: m.media.map((f) => ({ contentType: f.contentType, name: f.name, size: f.size, url: `/admin/sim/media/${f.id}` })),
  }));
}

/**
 * POST /sim/mms, GET /sim/mms-inbox, GET /sim/media/:id — a virtual subscriber's MMS — and GET /mms/inbound-problems
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
        const { rawPushes, unfetchable } = await service.inboundProblems(request.query.limit ?? 50);
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
        summary: 'The MMS a virtual subscriber phone has received (kept in the database); each media part by URL (GET /admin/sim/media/:id)',
        tags: ['admin'],
        querystring: Type.Object({ phone: E164 }),
        response: {
          200: Type.Object({
            phone: Type.String(),
            messages: Type.Array(
              Type.Object({
                from: Type.String(),
                subject: Type.Union([Type.String(), Type.Null()]),
                body: Type.String(),
                receivedAt: Type.String(),
                media: Type.Array(
                  Type.Object({ contentType: Type.String(), name: Type.Union([Type.String(), Type.Null()]), size: Type.Integer(), url: Type.String() }),
                ),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({ phone: request.query.phone, messages: mmsInboxView(require().mmsc, request.query.phone) }),
  );

  app.get(
    '/sim/media/:id',
    {
      schema: {
        summary: 'One media part of an MMS a virtual subscriber phone received, served like /media (inline only types that cannot run script)',
        tags: ['admin'],
        params: Type.Object({ id: Type.String({ pattern: '^[0-9A-Za-z]{1,32}$' }) }),
        response: { ...errorResponses },
      },
    },
    async (request, reply) => {
      const part = require().mmsc.mediaPart(request.params.id);
      if (!part) throw new NotFoundError('No such media part in a virtual phone\'s inbox');
      return sendMedia(reply, part.contentType, part.name, part.data.length).send(Buffer.from(part.data.buffer, part.data.byteOffset, part.data.length));
    },
  );
};
