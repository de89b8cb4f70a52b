import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

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

export function createLogger(options: { level: string; pretty?: boolean } & Pick<LoggerOptions, 'name'>): Logger {
  return pino({
    name: options.name ?? 'agentphone',
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}

/** A logger that drops everything: for tests and offline CLI commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
