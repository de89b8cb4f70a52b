import { AgentPhoneError } from '../../errors/index.ts';

export type MmsErrorCode = 'MMS_TRUNCATED' | 'MMS_INVALID_FIELD' | 'MMS_UNSUPPORTED' | 'MMS_INVALID_VALUE';

/**
 * Malformed MMS or WSP bytes. The only error the MMS decoders throw on bad input;
 * `offset` is where decoding stopped, counted from the start of the buffer given.
 */
export class MmsError extends AgentPhoneError {
  readonly offset: number;
  readonly reason: string;

  constructor(code: MmsErrorCode, offset: number, reason: string) {
    super(code, `Malformed MMS data at byte ${offset}: ${reason}`, { status: 400 });
    this.offset = offset;
    this.reason = reason;
  }
}
