import { pino, type DestinationStream, type Logger, type LoggerOptions, type SerializerFn } from 'pino';
import { redactUrl } from './redact-url.ts';

export type { Logger } from 'pino';
export { redactUrl, REDACTED } from './redact-url.ts';

/**
 * Paths that must never be logged in clear: keys, secrets, PINs, phone numbers and
 * message text. Modules log values in fields with these names so redaction catches them.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-agentphone-admin-token"]',
  'key',
  'apiKey',
  'secret',
  'webhookSecret',
  'pin',
  'adminToken',
  'body',
  'text',
  'to',
  'from',
  'phoneNumber',
  'originator',
  'recipient',
  '*.key',
  '*.secret',
  '*.pin',
  '*.body',
  '*.text',
  '*.to',
  '*.from',
  '*.phoneNumber',
];

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/**
 * How an HTTP request is logged (replaces fastify's `req` serializer, which logs `url`
 * verbatim): the path, and the query string with its values redacted (redactUrl).
 */
export const requestSerializer: SerializerFn = (req: LoggedRequest) => ({
  method: req.method,
  url: typeof req.url === 'string' ? redactUrl(req.url) : undefined,
  host: req.host,
  remoteAddress: req.ip,
  remotePort: req.socket?.remotePort,
});

/** The root logger; `destination` defaults to stdout (tests capture lines with their own). */
export function createLogger(
  options: { level: string; pretty?: boolean } & Pick<LoggerOptions, 'name'>,
  destination?: DestinationStream,
): Logger {
  const settings: LoggerOptions = {
    name: options.name ?? 'agentphone',
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { req: requestSerializer },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** A logger that drops everything: for tests and offline CLI commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
