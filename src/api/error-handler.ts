import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AgentPhoneError, RateLimitedError, reasonPhrase } from '../errors/index.ts';
import { describeValidation, type ValidationIssue } from './validator.ts';

/** The spec's error body. */
export interface ErrorBody {
  error: string;
  message: string;
}

/**
 * /api/v1's error body: OpenAI's `{error:{message,type,param,code}}`, the shape the OpenAI SDKs
 * read their message, code and param from (with a string `error` they show only `404 "Not
 * Found"`), plus the spec's top-level `message`.
 */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
  message: string;
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  retryAfterS?: number;
  /** The AgentPhoneError code, when the error is one. */
  code?: string;
  /** False when asking again cannot help (a missing model, an exhausted quota). */
  retryable: boolean;
}

/** Turns any error into the spec's {error, message} with the right status; never leaks internals. */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof AgentPhoneError) {
    const status = err.status;
    const message = status >= 500 && !(err.status === 503) ? 'An unexpected error occurred' : err.message;
    return {
      status,
      body: { error: reasonPhrase(status, err.code), message },
      code: err.code,
      retryable: err.retryable,
      ...(err instanceof RateLimitedError && { retryAfterS: err.retryAfterS }),
    };
  }
  const fe = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    return { status: 400, retryable: false, body: { error: 'Bad Request', message: describeValidation(fe.validation, fe.validationContext) } };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 500) return { status: 500, retryable: true, body: { error: reasonPhrase(500), message: 'An unexpected error occurred' } };
  return { status, retryable: false, body: { error: reasonPhrase(status), message: clientMessage(fe) } };
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

/** OpenAI's `code` for ours, where OpenAI has one; other codes are ours in lower case. */
const OPENAI_CODES: Record<string, string | null> = {
  UNKNOWN_MODEL: 'model_not_found',
  UNAUTHORIZED: 'invalid_api_key',
  RATE_LIMITED: 'rate_limit_exceeded',
  QUOTA_EXCEEDED: 'insufficient_quota',
  VALIDATION: null,
};

/** The same answer in the OpenAI shape, for /api/v1. */
export function toOpenAiError(res: ErrorResponse): OpenAiErrorBody {
  const { status, body, code } = res;
  const type =
    status >= 500 ? 'server_error'
    : status === 401 ? 'authentication_error'
    : code === 'QUOTA_EXCEEDED' ? 'insufficient_quota'
    : status === 429 ? 'requests'
    : 'invalid_request_error';
  const openAiCode = code === undefined ? (status === 404 ? 'not_found' : null) : (OPENAI_CODES[code] ?? code.toLowerCase());
  // `body.messages.0.role: ...` names the field: OpenAI's param is `messages.0.role`.
  const field = status === 400 ? /^(?:body\.)?([\w.[\]]+): /.exec(body.message)?.[1] : undefined;
  return { error: { message: body.message, type, param: field ?? null, code: openAiCode }, message: body.message };
}

/** Statuses the OpenAI SDKs retry on their own (with backoff) unless told `x-should-retry: false`. */
const sdkRetries = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500;

const isOpenAiRoute = (request: FastifyRequest): boolean => /^\/api\/v1(?:[/?#]|$)/.test(request.url);

/** Sends an error: the spec's shape, or OpenAI's on /api/v1 (with `x-should-retry: false` when a retry cannot help). */
export function sendError(request: FastifyRequest, reply: FastifyReply, res: ErrorResponse): void {
  if (res.retryAfterS !== undefined) void reply.header('Retry-After', String(Math.max(1, Math.ceil(res.retryAfterS))));
  if (!isOpenAiRoute(request)) {
    void reply.status(res.status).send(res.body);
    return;
  }
  if (!res.retryable && sdkRetries(res.status)) void reply.header('x-should-retry', 'false');
  void reply.status(res.status).send(toOpenAiError(res));
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const res = toErrorResponse(err);
  if (res.status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ status: res.status, code: err.code }, 'request rejected');
  sendError(request, reply, res);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const message = `Route ${request.method} ${request.url.split('?')[0]} not found`;
  sendError(request, reply, { status: 404, retryable: false, body: { error: 'Not Found', message } });
}
