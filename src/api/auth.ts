import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyService, ApiPrincipal } from '../auth/index.ts';
import { UnauthorizedError } from '../errors/index.ts';
import type { RateLimit } from '../metering/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: ApiPrincipal | null;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * onRequest hook for /api/*: exactly the spec's 401 on a missing, unknown or revoked key. A
 * missing token is refused without touching the store; a key's record is cached by the service,
 * so most requests cost one resolved promise here, not a query. The key's rate limit is awaited only
 * when the limiter returns a promise (the cluster's shared one); the in-memory one adds no await.
 */
export function apiKeyHook(keys: ApiKeyService, limiter?: RateLimit) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    const principal = token === undefined ? undefined : await keys.authenticate(token);
    if (!principal) throw new UnauthorizedError();
    const limited = limiter?.take(principal.keyId);
    if (limited) await limited;
    request.principal = principal;
  };
}

/** Another proof of admin rights for requests without a bearer token (the dashboard's session). */
export type AdminCredential = (request: FastifyRequest) => boolean;

/**
 * onRequest hook for /admin/*: the operator's admin token, compared in constant time, or,
 * when no bearer token is given, whatever `alternative` accepts.
 */
export function adminTokenHook(adminToken: string, alternative?: AdminCredential) {
  const expected = createHash('sha256').update(adminToken).digest();
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (token === undefined && alternative?.(request)) return;
    const presented = createHash('sha256').update(token ?? '').digest();
    if (token === undefined || !timingSafeEqual(presented, expected)) {
      throw new UnauthorizedError('Invalid or missing admin token');
    }
  };
}

export function principalOf(request: FastifyRequest): ApiPrincipal {
  if (!request.principal) throw new UnauthorizedError();
  return request.principal;
}
