/**
 * One coded error family. Every error that can reach a client or an operator is an
 * AgentPhoneError; the HTTP error handler turns it into the spec's {error, message}.
 */
export interface AgentPhoneErrorOptions {
  status?: number;
  retryable?: boolean;
  cause?: unknown;
}

export class AgentPhoneError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: AgentPhoneErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
  }
}

/** 400: the request names a bad field; the message says which. */
export class ValidationError extends AgentPhoneError {
  constructor(message: string, options: AgentPhoneErrorOptions = {}) {
    super('VALIDATION', message, { status: 400, ...options });
  }
}

export class NotFoundError extends AgentPhoneError {
  constructor(message: string) {
    super('NOT_FOUND', message, { status: 404 });
  }
}

export class UnauthorizedError extends AgentPhoneError {
  constructor(message = 'Invalid or missing API key') {
    super('UNAUTHORIZED', message, { status: 401 });
  }
}

export class QuotaExceededError extends AgentPhoneError {
  constructor(message: string) {
    super('QUOTA_EXCEEDED', message, { status: 429 });
  }
}

export class RateLimitedError extends AgentPhoneError {
  readonly retryAfterS: number;
  constructor(message: string, retryAfterS: number) {
    super('RATE_LIMITED', message, { status: 429, retryable: true });
    this.retryAfterS = retryAfterS;
  }
}

/** 503: a modem, model or other dependency is not available right now. */
export class UnavailableError extends AgentPhoneError {
  constructor(message: string, options: AgentPhoneErrorOptions = {}) {
    super('UNAVAILABLE', message, { status: 503, retryable: true, ...options });
  }
}

/**
 * 403: the contact opted out of messages from this number (STOP or an operator), so the
 * gateway refuses to text or call them from it until they opt back in (START) or an admin
 * removes the opt-out. Not retryable: the same request is refused until the state changes.
 */
export class ContactOptedOutError extends AgentPhoneError {
  readonly contact: string;
  readonly numberId: string;
  constructor(contact: string, numberId: string, message: string) {
    super('CONTACT_OPTED_OUT', message, { status: 403 });
    this.contact = contact;
    this.numberId = numberId;
  }
}

/** Configuration problems, all of them at once, each with its path. */
export class ConfigError extends AgentPhoneError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('CONFIG', `Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export class StoreError extends AgentPhoneError {
  constructor(message: string, options: AgentPhoneErrorOptions = {}) {
    super('STORE', message, options);
  }
}

/** The spec's reason phrase for a status code. */
export function reasonPhrase(status: number, code?: string): string {
  if (status === 429 && code === 'QUOTA_EXCEEDED') return 'Quota Exceeded';
  return REASONS[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};
