import { AgentPhoneError } from '../errors/index.ts';

export type MmscErrorCode = 'MMSC_REFUSED' | 'MMSC_TOO_LARGE' | 'MMSC_NO_BEARER' | 'MMSC_UNREACHABLE' | 'MMSC_TIMEOUT' | 'MMSC_BAD_RESPONSE' | 'MMS_NOT_CONFIGURED';

/** The MMSC (or the modem's own MMS client) could not carry a message; `retryable` says whether trying later may help. */
export class MmscError extends AgentPhoneError {
  constructor(code: MmscErrorCode, message: string, retryable: boolean, cause?: unknown) {
    super(code, message, { status: 502, retryable, ...(cause !== undefined && { cause }) });
  }
}
