/**
 * The Content-Security-Policy of each kind of answer. Every response carries one and
 * `X-Content-Type-Options: nosniff`, so no answer (a JSON error echoing input included) can
 * be read by a browser as a page that runs script.
 */

/** JSON, CSV, metrics: nothing in them may load or run. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Swagger UI at /docs: its own scripts and styles from /docs/static, requests to this origin. */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/**
 * Received media: a unique opaque origin (sandbox without allow-scripts), nothing loaded
 * from anywhere. Media shown by the dashboard's <img>/<audio> is unaffected: a CSP on a
 * subresource applies only when it is opened as a document.
 */
export const MEDIA_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const NOSNIFF = 'nosniff';
