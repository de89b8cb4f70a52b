/**
 * The product's marks: the favicon (pages, /favicon.ico, Swagger UI) and the logo in
 * Swagger UI's top bar. Inline SVG, so nothing is fetched from elsewhere.
 */
import type { FastifyPluginAsync } from 'fastify';

/** A speech bubble holding a phone handset, on the dashboard's accent blue. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#1d4ed8"/>' +
  '<path d="M6 9a3 3 0 0 1 3-3h14a3 3 0 0 1 3 3v10a3 3 0 0 1-3 3h-8l-5 4v-4H9a3 3 0 0 1-3-3z" fill="#fff"/>' +
  '<path d="M12.3 10.2l1.6-.4 1 2.4-1.1.9a7 7 0 0 0 3.2 3.2l.9-1.1 2.4 1-.4 1.6c-.2.6-.8 1-1.4.9a9 9 0 0 1-7.1-7.1c-.1-.6.3-1.2.9-1.4z" fill="#1d4ed8"/>' +
  '</svg>';

/** The mark and the product's name, white text for Swagger UI's dark top bar. */
export const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 190 32" width="190" height="32">' +
  FAVICON_SVG.replace('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">', '<g>').replace('</svg>', '</g>') +
  '<text x="42" y="23" font-family="system-ui,sans-serif" font-size="20" font-weight="600" fill="#fff">AgentPhone API</text>' +
  '</svg>';

const FAVICON_HEADERS = {
  'content-type': 'image/svg+xml',
  'x-content-type-options': 'nosniff',
  // An SVG opened as a page may not run or load anything.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  'cache-control': 'public, max-age=86400',
};

/** GET /favicon.ico and /favicon.svg: the SVG mark (browsers take an SVG at /favicon.ico too). */
export const faviconRoutes: FastifyPluginAsync = async (app) => {
  for (const url of ['/favicon.ico', '/favicon.svg']) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.headers(FAVICON_HEADERS).send(FAVICON_SVG));
  }
};
