import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AgentPhoneError, RateLimitedError, reasonPhrase } from '../errors/index.ts';

/** The spec's error body. */
export interface ErrorBody {
  error: string;
  message: string;
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Turns any error into the spec's {error, message} with the right status; never leaks internals. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; retryAfterS?: number } {
  if (err instanceof AgentPhoneError) {
    const status = err.status;
    const message = status >= 500 && !(err.status === 503) ? 'An unexpected error occurred' : err.message;
    return {
      status,
      body: { error: reasonPhrase(status, err.code), message },
      ...(err instanceof RateLimitedError && { retryAfterS: err.retryAfterS }),
    };
  }
  const fe = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    return { status: 400, body: { error: 'Bad Request', message: describeValidation(fe.validation, fe.validationContext) } };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 500) return { status: 500, body: { error: reasonPhrase(500), message: 'An unexpected error occurred' } };
  return { status, body: { error: reasonPhrase(status), message: clientMessage(fe) } };
}

function clientMessage(fe: Partial<FastifyError>): string {
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is larger than the server accepts';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Request body is not valid JSON';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported Content-Type; send application/json';
    default:
      return fe.message && !fe.message.includes('/') ? fe.message : 'The request could not be processed';
  }
}

/** `body.to: must be string`, `params.id: required`. */
function describeValidation(issues: ValidationIssue[], context = 'body'): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = (issue.instancePath ?? '').split('/').filter(Boolean);
      const missing = issue.params?.requiredProperties ?? issue.params?.missingProperty;
      if (issue.keyword === 'required' && missing !== undefined) {
        const names = Array.isArray(missing) ? missing : [missing];
        return names.map((n) => `${[context, ...path, String(n)].join('.')}: required`).join('; ');
      }
      return `${[context, ...path].join('.')}: ${issue.message ?? 'is invalid'}`;
    })
    .join('; ');
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, retryAfterS } = toErrorResponse(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ status, code: err.code }, 'request rejected');
  if (retryAfterS !== undefined) void reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterS))));
  void reply.status(status).send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({ error: 'Not Found', message: `Route ${request.method} ${request.url.split('?')[0]} not found` });
}
