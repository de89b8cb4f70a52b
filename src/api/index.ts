export { buildApp, closeApp, routeTable, type App, type AppDeps, type RouteEntry, type RouteRegistrar } from './app.ts';
export { readTlsMaterial, reloadTls, type TlsFiles, type TlsMaterial } from './tls.ts';
export { toErrorResponse, type ErrorBody } from './error-handler.ts';
export { apiKeyHook, bearerToken, principalOf } from './auth.ts';
export { ErrorSchema, errorResponses, NumberIdParams, NumberViewSchema } from './schemas.ts';
export type { HealthReport } from './routes/health.ts';
