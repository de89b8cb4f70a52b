import type Srf from 'drachtio-srf';
import { SipCallError } from './signaling.ts';

/** How long a late-offer call waits for the ACK carrying the caller's answer (RFC 3261 Timer H, 64·T1). */
export const LATE_OFFER_ACK_TIMEOUT_MS = 32_000;

function answerFailed(req: Srf.SrfRequest, err: unknown): SipCallError {
  const status = (err as { status?: unknown } | null)?.status;
  // A CANCEL that reached drachtio-server before our 200 ends the INVITE transaction there
  // (it answers 487 itself); drachtio-srf then rejects the 200 with the server's reason as a
  // bare string, and the 'cancel' event may never reach us. Either way the caller canceled.
  if ((req as { canceled?: boolean }).canceled || status === 487 || typeof err === 'string') {
    return new SipCallError(487, 'the caller canceled before the call was answered');
  }
  const text = err instanceof Error ? err.message : String(err);
  return new SipCallError(typeof status === 'number' ? status : 500, `the call could not be answered: ${text || 'no reason given'}`);
}

/** 200 OK with `sdp` (our answer, or our offer for a late-offer INVITE). */
export async function answerInvite(srf: Srf, req: Srf.SrfRequest, res: Srf.SrfResponse, sdp: string): Promise<Srf.Dialog> {
  try {
    return await srf.createUAS(req, res, { localSdp: sdp, headers: { 'Content-Type': 'application/sdp' } });
  } catch (err) {
    throw answerFailed(req, err);
  }
}

/**
 * The caller's answer to the offer we put in the 200, from its ACK (RFC 3264 §5 with RFC 3261
 * §13.2.1: an INVITE without SDP gets the offer in the 200, the answer comes in the ACK).
 * Rejects with 488 for an ACK without SDP, 408 when no ACK comes in time.
 */
export function ackAnswer(dialog: Srf.Dialog, timeoutMs = LATE_OFFER_ACK_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SipCallError(408, 'no ACK with the SDP answer arrived')), timeoutMs);
    timer.unref();
    (dialog as unknown as { once(e: 'ack', fn: (ack: { body?: string }) => void): void }).once('ack', (ack) => {
      clearTimeout(timer);
      if (ack.body?.trim()) resolve(ack.body);
      else reject(new SipCallError(488, 'the ACK carried no SDP answer to our offer'));
    });
  });
}
