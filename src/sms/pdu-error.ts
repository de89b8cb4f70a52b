import { AgentPhoneError } from '../errors/index.ts';

export type PduErrorCode =
  | 'PDU_INVALID_HEX'
  | 'PDU_TRUNCATED'
  | 'PDU_INVALID_FIELD'
  | 'PDU_UNSUPPORTED';

/**
 * A PDU that cannot be decoded. The only error the decoders throw on malformed input;
 * `offset` is the byte offset (in the hex PDU as given, SMSC field included) where
 * decoding stopped.
 */
export class PduError extends AgentPhoneError {
  readonly offset: number;
  readonly reason: string;

  constructor(code: PduErrorCode, offset: number, reason: string) {
    super(code, `Malformed PDU at byte ${offset}: ${reason}`, { status: 400 });
    this.offset = offset;
    this.reason = reason;
  }
}
