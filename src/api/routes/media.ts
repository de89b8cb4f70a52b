import { createReadStream } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { NotFoundError } from '../../errors/index.ts';
import type { MediaStore } from '../../mms/index.ts';

/**
 * GET /media/:id — media of received MMS, as the webhook's `media` URLs name it. Public like
 * any MMS carrier's media link: the id is 128 random bits, and it expires with its retention.
 */
export const mediaRoutes: FastifyPluginAsyncTypebox<{ media: MediaStore }> = async (app, { media }) => {
  app.get(
    '/media/:id',
    {
      schema: {
        summary: 'A received MMS media file (the URLs in message.inbound webhooks)',
        tags: ['messages'],
        params: Type.Object({ id: Type.String({ pattern: '^[0-9A-Za-z]{1,32}$' }) }),
      },
    },
    async (request, reply) => {
      const found = media.lookup(request.params.id);
      if (!found) throw new NotFoundError('No such media (it may have expired)');
      const stream = createReadStream(found.path);
      const ext = found.name ? `; filename="${found.name.replace(/["\\\r\n]/g, '_')}"` : '';
      return reply
        .header('content-type', found.contentType)
        .header('content-length', found.size)
        .header('content-disposition', `inline${ext}`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, max-age=3600')
        .send(stream);
    },
  );
};
