import { AgentPhoneError } from '../errors/index.ts';
import { CME_ERRORS, CMS_ERRORS, codeForVerbose, isRetryableCme, isRetryableCms } from './error-codes.ts';

export type ModemErrorKind =
  | 'cme' // +CME ERROR: equipment / SIM / network error
  | 'cms' // +CMS ERROR: message service error
  | 'error' // plain ERROR (or a vendor's "COMMAND NOT SUPPORT")
  | 'timeout' // no final result code before the command's deadline
  | 'no-prompt' // AT+CMGS got no "> " prompt
  | 'closed' // the port closed (unplugged) while the command waited
  | 'unavailable'; // the line is not in a state to take the request

export interface ModemErrorDetails {
  kind: ModemErrorKind;
  /** The +CME/+CMS number, when the modem gave one or a verbose text we recognise. */
  errorCode?: number;
  /** The AT command that failed, without any PDU payload or PIN. */
  command?: string;
  retryable?: boolean;
  cause?: unknown;
}

/** A failed AT exchange: carries the +CME/+CMS number, its meaning and whether to retry. */
export class ModemError extends AgentPhoneError {
  readonly kind: ModemErrorKind;
  readonly errorCode: number | undefined;
  readonly meaning: string;
  readonly command: string | undefined;

  constructor(meaning: string, details: ModemErrorDetails) {
    const code = `MODEM_${details.kind.toUpperCase().replace('-', '_')}`;
    const retryable = details.retryable ?? defaultRetryable(details.kind, details.errorCode);
    const where = details.command === undefined ? '' : ` (${details.command})`;
    const number = details.errorCode === undefined ? '' : ` ${details.errorCode}`;
    const label = details.kind === 'cme' || details.kind === 'cms' ? `+${details.kind.toUpperCase()} ERROR${number}: ` : '';
    super(code, `Modem ${label}${meaning}${where}`, { status: 503, retryable, cause: details.cause });
    this.kind = details.kind;
    this.errorCode = details.errorCode;
    this.meaning = meaning;
    this.command = details.command;
  }

  /** Builds the error for a final result line such as `+CMS ERROR: 500` or `+CME ERROR: SIM busy`. */
  static fromFinal(line: string, command?: string): ModemError {
    const match = /^\+(CME|CMS) ERROR:\s*(.*)$/i.exec(line.trim());
    if (!match) return new ModemError(line.trim() || 'ERROR', { kind: 'error', command });
    const kind = match[1]!.toLowerCase() as 'cme' | 'cms';
    const rest = (match[2] ?? '').trim().replace(/^"(.*)"$/, '$1');
    const table = kind === 'cme' ? CME_ERRORS : CMS_ERRORS;
    const errorCode = /^\d+$/.test(rest) ? Number(rest) : codeForVerbose(kind, rest);
    const meaning = errorCode !== undefined ? (table[errorCode] ?? (rest || 'unknown error')) : rest || 'unknown error';
    return new ModemError(meaning, { kind, errorCode, command });
  }
}

function defaultRetryable(kind: ModemErrorKind, code: number | undefined): boolean {
  switch (kind) {
    case 'cms':
      return code === undefined || isRetryableCms(code);
    case 'cme':
      return code === undefined || isRetryableCme(code);
    case 'error':
      return false;
    default:
      return true;
  }
}

export function isModemError(error: unknown): error is ModemError {
  return error instanceof ModemError;
}
