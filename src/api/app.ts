import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyHttpOptions,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ApiKeyService } from '../auth/index.ts';
import type { Config } from '../config/index.ts';
import { FAVICON_SVG, LOGO_SVG } from '../dashboard/index.ts';
import { requestSerializer, type Logger } from '../logging/index.ts';
import type { RateLimit } from '../metering/index.ts';
import type { NumberService } from '../numbers/index.ts';
import { adminKeysRoutes } from './admin/keys.ts';
import { adminNumbersRoutes } from './admin/numbers.ts';
import { adminTokenHook, apiKeyHook, type AdminCredential } from './auth.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';
import { numberMissHook } from './number-miss-hook.ts';
import { API_CSP, DOCS_CSP, NOSNIFF } from './security-headers.ts';
import { healthRoutes, type HealthReport } from './routes/health.ts';
import { numbersRoutes } from './routes/numbers.ts';
import { ErrorSchema } from './schemas.ts';
import { createValidatorCompiler } from './validator.ts';
import { readTlsMaterial, type TlsMaterial } from './tls.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Routes another domain adds under /api or /admin (registered inside the guarded scope). */
export type RouteRegistrar = (scope: App) => PromiseLike<unknown> | void;

export interface AppDeps {
  config: Readonly<Config>;
  logger: Logger;
  numbers: NumberService;
  apiKeys: ApiKeyService;
  adminToken: string;
  metrics: Registry;
  rateLimiter?: RateLimit;
  health?: () => HealthReport;
  apiRoutes?: readonly RouteRegistrar[];
  adminRoutes?: readonly RouteRegistrar[];
  /** Accepted on /admin/* in place of the bearer admin token (the dashboard's session + CSRF). */
  adminSession?: AdminCredential;
  /** Routes outside /api and /admin, with no auth hook of ours (the dashboard's pages and login). */
  routes?: readonly RouteRegistrar[];
  /** server.tls's certificate and key when the caller has already read them (read here otherwise). */
  tlsMaterial?: TlsMaterial;
}

export interface RouteEntry {
  method: string;
  url: string;
  /** The route's body schema, when it takes one. */
  body: unknown;
}

const routeTables = new WeakMap<object, RouteEntry[]>();

/**
 * Every route the app serves (HEAD twins left out), as registered: the security suite walks
 * it, so a route added anywhere is checked for auth without anyone listing it.
 */
export function routeTable(app: App): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

/** Builds the HTTP surface. Never listens: main.ts does, tests use inject() or listen themselves. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { tls, trustProxy } = deps.config.server;
  // With server.tls the server is an https.Server: the same request API as http.Server (so the
  // App type stays), and reloadTls() swaps its certificate on SIGHUP. fastify also takes a hop
  // count for trustProxy, which its types leave out.
  const serverOptions = { ...(tls !== null && { https: deps.tlsMaterial ?? readTlsMaterial(tls) }), trustProxy } as Pick<FastifyHttpOptions<RawServerDefault>, 'trustProxy'>;
  const app = Fastify({
    ...serverOptions,
    // Our req serializer: fastify's own logs the URL with its query string, secrets and all.
    loggerInstance: deps.logger.child({ mod: 'http' }, { serializers: { req: requestSerializer } }) as FastifyBaseLogger,
    bodyLimit: deps.config.server.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const table: RouteEntry[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') table.push({ method, url: route.url, body: route.schema?.body });
    }
  });

  app.setValidatorCompiler(createValidatorCompiler());
  // Every body route here takes JSON; anything else is a 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addSchema(ErrorSchema);
  // Set as the request arrives (a callback hook: no promise per request), so every answer,
  // errors included, carries them; the dashboard, /docs and /media set their own CSP.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    void reply.header('x-content-type-options', NOSNIFF);
    void reply.header('content-security-policy', API_CSP);
    done();
  });
  instrument(app, deps.metrics);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AgentPhone',
        version: '0.1.0',
        description: 'Self-hosted carrier gateway for AI agents. Errors are always {"error","message"}.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  const adminOnly = adminTokenHook(deps.adminToken, deps.adminSession);
  const { metricsRequireAdmin, docsRequireAdmin } = deps.config.server;
  if (metricsRequireAdmin || docsRequireAdmin) {
    // By the matched route (not the raw URL, which percent-encoding could disguise): every
    // route under /docs, the UI's static assets included.
    app.addHook('onRequest', async (request) => {
      const route = request.routeOptions.url ?? '';
      const docs = route === '/docs' || route.startsWith('/docs/');
      if ((docsRequireAdmin && docs) || (metricsRequireAdmin && route === '/metrics')) await adminOnly(request);
    });
  }
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: DOCS_CSP,
    // The product's mark and name, not Swagger's or fastify's.
    logo: { type: 'image/svg+xml', content: Buffer.from(LOGO_SVG), href: '/docs', target: '_self' },
    theme: {
      title: 'AgentPhone API',
      favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: Buffer.from(FAVICON_SVG) }],
    },
  });

  const health = deps.health ?? (() => ({ status: 'ok' as const }));
  await app.register(healthRoutes, { metrics: deps.metrics, health });

  await app.register(
    async (api) => {
      api.addHook('onRequest', apiKeyHook(deps.apiKeys, deps.rateLimiter));
      // A cluster node finds numbers other nodes made even when their bus hint was lost (not on SQLite).
      if (deps.numbers.readsMisses) api.addHook('preHandler', numberMissHook(deps.numbers));
      // Inside the guarded scope, so an unknown /api path answers 401 before 404: without a
      // key nobody learns which routes exist.
      api.setNotFoundHandler(notFoundHandler);
      await api.register(numbersRoutes, { numbers: deps.numbers });
      for (const add of deps.apiRoutes ?? []) await add(api);
    },
    { prefix: '/api' },
  );

  await app.register(
    async (admin) => {
      admin.addHook('onRequest', adminOnly);
      if (deps.numbers.readsMisses) admin.addHook('preHandler', numberMissHook(deps.numbers));
      admin.setNotFoundHandler(notFoundHandler);
      await admin.register(adminKeysRoutes, { keys: deps.apiKeys });
      await admin.register(adminNumbersRoutes, { numbers: deps.numbers });
      for (const add of deps.adminRoutes ?? []) await add(admin);
    },
    { prefix: '/admin' },
  );

  for (const add of deps.routes ?? []) await add(app);

  return app;
}

function instrument(app: App, registry: Registry): void {
  const requests = new Counter({
    name: 'agentphone_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'agentphone_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * Closes the server gracefully: requests in flight finish, keep-alive connections are closed as
 * they turn idle (Node closes only those idle at the moment close() starts; one whose last
 * response was still being finished would otherwise hold shutdown for the keep-alive timeout),
 * and whatever is still open after `graceMs` is cut.
 */
export async function closeApp(app: App, graceMs = 10_000): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(cut);
  }
}
