import { AgentPhoneError } from '../../errors/index.ts';

/** A datagram that is not a valid RTP/RTCP/RFC 4733 packet. */
export class RtpError extends AgentPhoneError {
  constructor(message: string) {
    super('RTP', message, { status: 400 });
  }
}
