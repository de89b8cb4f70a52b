import type { IncomingCall, OutboundCall, SignalingStatus, SipDialog, SipSignaling } from '../../src/voice/index.ts';
import { SipCallError } from '../../src/voice/index.ts';

/** One side of a dialog in the loopback driver; the test holds the far end. */
class LoopbackDialog implements SipDialog {
  private endFns: Array<(reason: 'bye' | 'lost') => void> = [];
  private reinviteFn: ((offer: string) => string) | undefined;
  byeSent = false;
  referredTo: string | undefined;
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(readonly sipCallId: string) {
    this.ended = new Promise((r) => (this.resolveEnded = r));
  }
  onEnd(fn: (reason: 'bye' | 'lost') => void): void {
    this.endFns.push(fn);
  }
  onReinvite(fn: (offer: string) => string): void {
    this.reinviteFn = fn;
  }
  async bye(): Promise<void> {
    this.byeSent = true;
    this.resolveEnded();
  }
  async refer(to: string): Promise<void> {
    this.referredTo = to;
  }
  /** The far end hangs up. */
  remoteBye(): void {
    for (const fn of this.endFns) fn('bye');
    this.resolveEnded();
  }
  /** The far end re-INVITEs; returns our answer. */
  reinvite(offer: string): string {
    if (!this.reinviteFn) throw new Error('no re-INVITE handler');
    return this.reinviteFn(offer);
  }
}

export interface InboundAttempt {
  /** The final answer: 200 with our SDP, or a rejection. */
  result: Promise<{ status: number; sdp?: string; dialog?: LoopbackDialog }>;
  cancel(): void;
}

/**
 * SipSignaling driven by the test instead of a SIP server: the test plays the trunk. INVITEs,
 * CANCEL, BYE and re-INVITE go through the same port the drachtio adapter implements, so the
 * call manager, SDP and real RTP are exercised exactly as in production.
 */
export class LoopbackSignaling implements SipSignaling {
  private handler: ((call: IncomingCall) => void) | undefined;
  private seq = 0;
  readonly outbound: Array<OutboundCall & { answer(sdp: string): LoopbackDialog; reject(status: number): void }> = [];
  private outboundWaiters: Array<() => void> = [];
  started = false;

  onInvite(handler: (call: IncomingCall) => void): void {
    this.handler = handler;
  }
  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
  }
  status(): SignalingStatus {
    return { connected: this.started, trunks: [] };
  }

  /** A call arrives from the trunk. */
  invite(from: string, to: string, offer: string): InboundAttempt {
    if (!this.handler) throw new Error('no INVITE handler registered');
    const sipCallId = `loop-${++this.seq}@test`;
    let settle!: (r: { status: number; sdp?: string; dialog?: LoopbackDialog }) => void;
    const result = new Promise<{ status: number; sdp?: string; dialog?: LoopbackDialog }>((r) => (settle = r));
    const cancelFns: Array<() => void> = [];
    let done = false;
    this.handler({
      sipCallId,
      from,
      to,
      offer,
      onCancel: (fn) => cancelFns.push(fn),
      answer: async (sdp) => {
        if (done) throw new SipCallError(487, 'Request Terminated');
        done = true;
        const dialog = new LoopbackDialog(sipCallId);
        settle({ status: 200, sdp, dialog });
        return dialog;
      },
      answerWithOffer: async () => {
        throw new SipCallError(488, 'the loopback driver has no late offer (the real-SIP suite covers it)');
      },
      reject: async (status) => {
        done = true;
        settle({ status });
      },
    });
    return {
      result,
      cancel: () => {
        if (done) return;
        done = true;
        for (const fn of cancelFns) fn();
        settle({ status: 487 });
      },
    };
  }

  call(request: OutboundCall): Promise<{ dialog: SipDialog; answer: string }> {
    return new Promise((resolve, reject) => {
      const sipCallId = `loop-out-${++this.seq}@test`;
      request.signal.addEventListener('abort', () => reject(new SipCallError(487, 'Request Terminated')));
      this.outbound.push({
        ...request,
        answer: (sdp) => {
          const dialog = new LoopbackDialog(sipCallId);
          resolve({ dialog, answer: sdp });
          return dialog;
        },
        reject: (status) => reject(new SipCallError(status, `SIP ${status}`)),
      });
      for (const w of this.outboundWaiters.splice(0)) w();
    });
  }

  /** Resolves when an outbound call has been placed. */
  async nextOutbound(): Promise<(typeof this.outbound)[number]> {
    while (this.outbound.length === 0) await new Promise<void>((r) => this.outboundWaiters.push(r));
    return this.outbound.shift() as (typeof this.outbound)[number];
  }
}
