import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { stringifySetCookie } from 'cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { RateLimitedError, UnauthorizedError } from '../errors/index.ts';
import { faviconRoutes } from './brand.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { CSRF_HEADER, SESSION_COOKIE, type DashboardSessions } from './sessions.ts';

const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

/** Where `npm install` (the prepare script) puts the built dashboard. */
export function defaultAssetsDir(): string | undefined {
  // From src/dashboard/ when run from source, from dist/src/dashboard/ when compiled.
  for (const rel of ['../../dist/dashboard/', '../../../dist/dashboard/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

export interface DashboardRoutesOptions {
  sessions: DashboardSessions;
  adminToken: string;
  /** The built front end; without one, / explains how to build it. */
  assetsDir: string | undefined;
  /** Set the Secure flag on the cookie even when the request itself is plain HTTP (TLS ends at a proxy). */
  secureCookies: boolean;
  /** Failed logins per client address, with backoff. */
  loginThrottle: LoginThrottle;
  /** The origin received media is served from when it is not this one (media.publicUrl). */
  mediaOrigin?: string;
}

/**
 * The pages' headers. Images and media come only from this origin and the media origin:
 * the dashboard shows the media the gateway stored, never a URL an agent or sender chose
 * (which would tell a third party when the operator looks).
 */
export function dashboardSecurityHeaders(mediaOrigin?: string): Record<string, string> {
  const media = mediaOrigin ? ` ${mediaOrigin}` : '';
  return {
    'content-security-policy':
      `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'${media}; media-src 'self'${media}; ` +
      "connect-src 'self'; object-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>AgentPhone</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>AgentPhone dashboard not built</h1>
<p>Build it with <code>npm run build:dashboard</code> (<code>npm install</code> does this) and restart the gateway.
The admin API at <code>/admin</code> works without it.</p></body></html>`;

/** The dashboard: login / logout / session under /auth, and the built pages at /. */
export const dashboardRoutes: FastifyPluginAsyncTypebox<DashboardRoutesOptions> = async (app, opts) => {
  const SECURITY_HEADERS = dashboardSecurityHeaders(opts.mediaOrigin);
  const expected = createHash('sha256').update(opts.adminToken).digest();
  const cookieOptions = (request: FastifyRequest) => ({
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: opts.secureCookies || request.protocol === 'https',
  });
  const setCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAgeS?: number) =>
    reply.header(
      'set-cookie',
      stringifySetCookie({ name: SESSION_COOKIE, value, ...cookieOptions(request), ...(maxAgeS !== undefined && { maxAge: maxAgeS }) }),
    );

  app.post(
    '/auth/login',
    {
      schema: {
        summary: 'Dashboard login with the admin token: sets the session cookie, returns the CSRF token',
        tags: ['dashboard'],
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 1024 }) }),
        response: { 200: Type.Object({ csrfToken: Type.String(), csrfHeader: Type.String() }), 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      // Behind a proxy this is the proxy's address unless fastify is told to trust it; then
      // every client shares one budget, which still bounds guessing.
      const address = request.ip;
      const waitMs = opts.loginThrottle.waitMs(address);
      if (waitMs > 0) throw new RateLimitedError('Too many failed logins from this address; try again later', waitMs / 1000);
      const presented = createHash('sha256').update(request.body.token).digest();
      if (!timingSafeEqual(presented, expected)) {
        const { failures, lockedForMs } = opts.loginThrottle.failed(address);
        request.log.warn({ address, failures, lockedForMs }, 'dashboard login failed');
        throw new UnauthorizedError('Invalid admin token');
      }
      opts.loginThrottle.succeeded(address);
      const session = opts.sessions.create();
      setCookie(request, reply, session.sessionId);
      return { csrfToken: session.csrfToken, csrfHeader: CSRF_HEADER };
    },
  );

  app.get(
    '/auth/session',
    {
      schema: {
        summary: "The current dashboard session's CSRF token (401 when not logged in)",
        tags: ['dashboard'],
        response: { 200: Type.Object({ csrfToken: Type.String(), csrfHeader: Type.String() }), 401: ErrorBody },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const session = opts.sessions.lookup(opts.sessions.sessionIdOf(request));
      if (!session) throw new UnauthorizedError('Not logged in');
      return { csrfToken: session.csrfToken, csrfHeader: CSRF_HEADER };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: { summary: 'End the dashboard session (needs the CSRF header)', tags: ['dashboard'], response: { 204: Type.Null(), 401: ErrorBody } },
    },
    async (request, reply) => {
      if (!opts.sessions.authorizes(request)) throw new UnauthorizedError('Not logged in, or the CSRF token is missing');
      opts.sessions.destroy(opts.sessions.sessionIdOf(request));
      setCookie(request, reply, '', 0);
      return reply.code(204).send(null);
    },
  );

  await app.register(faviconRoutes);

  if (!opts.assetsDir) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(NOT_BUILT),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: opts.assetsDir,
    prefix: '/',
    // One route per built file (and / for index.html): nothing else falls through to the disk.
    wildcard: false,
    index: 'index.html',
    setHeaders: (reply, path) => {
      void reply.headers(SECURITY_HEADERS);
      // Vite names assets by content hash; index.html must always be fetched fresh.
      void reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
};
