/**
 * The operator dashboard's server side: login sessions (cookie + CSRF token) and the routes
 * that serve the built front end (src/dashboard/web, built by Vite into dist/dashboard).
 */
export { DashboardSessions, SESSION_COOKIE, CSRF_HEADER, type SessionRequest } from './sessions.ts';
export { dashboardRoutes, dashboardSecurityHeaders, defaultAssetsDir, type DashboardRoutesOptions } from './routes.ts';
export { LoginThrottle, type LoginThrottleOptions } from './login-throttle.ts';
export { FAVICON_SVG, LOGO_SVG, faviconRoutes } from './brand.ts';
