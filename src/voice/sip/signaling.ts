import { AgentPhoneError } from '../../errors/index.ts';

/** A SIP failure with the status the far end (or we) gave. */
export class SipCallError extends AgentPhoneError {
  constructor(
    readonly sipStatus: number,
    message: string,
  ) {
    super('SIP', message, { status: sipStatus >= 500 ? 503 : 502, retryable: sipStatus >= 500 });
  }
}

/** The drachtio-server connection dropped before the call was set up: no SIP answer will come. */
export class SignalingLostError extends SipCallError {
  constructor(message = 'the connection to the drachtio-server was lost before the call was answered') {
    super(503, message);
  }
}

/** An established call leg (a SIP dialog). */
export interface SipDialog {
  readonly sipCallId: string;
  /** The other side hung up (BYE), or the dialog died (signaling connection lost). */
  onEnd(fn: (reason: 'bye' | 'lost') => void): void;
  /** A re-INVITE (hold, resume, media change): return our answer SDP, or throw SdpError for 488. */
  onReinvite(fn: (offer: string) => string): void;
  bye(): Promise<void>;
  /** Blind transfer (REFER) to an E.164 number. */
  refer(to: string): Promise<void>;
}

/** An INVITE waiting for our answer. */
export interface IncomingCall {
  readonly sipCallId: string;
  /** Caller, E.164 where the trunk sends it so (else whatever user part it sent). */
  readonly from: string;
  /** The dialled number, E.164. */
  readonly to: string;
  /** The caller's SDP offer; '' for a late offer (an INVITE without SDP). */
  readonly offer: string;
  /** The caller gave up before we answered (CANCEL). */
  onCancel(fn: () => void): void;
  /** 200 with our answer; rejects with SipCallError 487 when the caller canceled first. */
  answer(sdp: string): Promise<SipDialog>;
  /** Late offer: 200 with our offer; resolves with the caller's answer from the ACK. */
  answerWithOffer(offer: string): Promise<{ dialog: SipDialog; answer: string }>;
  reject(status: number, reason?: string): Promise<void>;
}

export interface OutboundCall {
  from: string;
  to: string;
  offer: string;
  /** Aborting sends CANCEL. */
  signal: AbortSignal;
}

export interface TrunkStatus {
  name: string;
  kind: 'register' | 'ip';
  state: 'registered' | 'registering' | 'failed' | 'ip';
  expiresAt: string | null;
  lastError: string | null;
}

export interface SignalingStatus {
  connected: boolean;
  trunks: TrunkStatus[];
}

/**
 * Call signaling, whatever carries it: drachtio-srf to a drachtio-server in production, a
 * loopback driver in tests.
 */
export interface SipSignaling {
  onInvite(handler: (call: IncomingCall) => void): void;
  /** Places a call; resolves when answered, with the answer SDP; rejects with SipCallError. */
  call(request: OutboundCall): Promise<{ dialog: SipDialog; answer: string }>;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): SignalingStatus;
}
