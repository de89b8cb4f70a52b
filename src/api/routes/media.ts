import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { NotFoundError } from '../../errors/index.ts';
import type { MediaStore } from '../../mms/index.ts';
import { MEDIA_CSP, NOSNIFF } from '../security-headers.ts';

/**
 * Types a browser only ever displays or plays, never runs: served inline with their own
 * type. Everything a sender can mark up (text/html, image/svg+xml, XML, XHTML, PDF, …) is
 * left off, whatever the MMS said, and downloads as application/octet-stream.
 */
const INLINE_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp',
  'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/ogg', 'audio/wav', 'audio/3gpp',
  'video/mp4', 'video/3gpp', 'video/3gpp2', 'video/webm', 'video/ogg', 'video/quicktime',
  'text/plain',
]);

/** Not rendered by browsers, and agents want the type: downloaded, but labelled as what they are. */
const DOWNLOAD_TYPES: ReadonlySet<string> = new Set(['text/vcard', 'text/x-vcard', 'text/calendar']);

/** The text charsets served as given; any other text is served as UTF-8. */
const TEXT_CHARSETS: ReadonlySet<string> = new Set(['utf-8', 'us-ascii', 'iso-8859-1', 'utf-16', 'utf-16le', 'utf-16be']);

export interface MediaHeaders {
  'content-type': string;
  'content-disposition': string;
}

/** What a stored part (type and name already sanitised by the store) is served as. */
export function mediaHeaders(contentType: string, name: string | null): MediaHeaders {
  const [essence = '', charsetParam] = contentType.split(';');
  const type = essence.trim();
  if (INLINE_TYPES.has(type)) {
    const charset = charsetParam?.trim().replace(/^charset=/, '') ?? '';
    const served = type === 'text/plain' ? `text/plain; charset=${TEXT_CHARSETS.has(charset) ? charset : 'utf-8'}` : type;
    return { 'content-type': served, 'content-disposition': contentDisposition('inline', name) };
  }
  return {
    'content-type': DOWNLOAD_TYPES.has(type) ? type : 'application/octet-stream',
    'content-disposition': contentDisposition('attachment', name),
  };
}

/**
 * RFC 6266: a plain-ASCII `filename` for old clients, and the name itself as UTF-8 in
 * `filename*` (RFC 8187), so any name a phone sends can be given back.
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string | null): string {
  if (!name) return kind;
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return fallback === name ? `${kind}; filename="${name}"` : `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Sets the headers every answer carrying received media has (/media and a virtual phone's
 * parts): the served type and disposition, nosniff, MEDIA_CSP; the caller sends the bytes.
 */
export function sendMedia(reply: FastifyReply, contentType: string, name: string | null, size: number): FastifyReply {
  return reply
    .headers({ ...mediaHeaders(contentType, name) })
    .header('content-length', size)
    .header('x-content-type-options', NOSNIFF)
    .header('content-security-policy', MEDIA_CSP)
    .header('cache-control', 'private, max-age=3600');
}

/**
 * GET /media/:id — media of received MMS, as the webhook's `media` URLs name it. Public like
 * any MMS carrier's media link: the id is 128 random bits, and it expires with its retention.
 * A sender chooses these bytes, so they must never run in this origin: see mediaHeaders and
 * MEDIA_CSP.
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
      const found = await media.lookup(request.params.id);
      if (!found) throw new NotFoundError('No such media (it may have expired)');
      const body = await found.body();
      if (!body) throw new NotFoundError('No such media (it may have expired)');
      return sendMedia(reply, found.contentType, found.name, found.size).send(body);
    },
  );
};
