import type Srf from 'drachtio-srf';
import type { Config } from '../../config/index.ts';
import { SipCallError, type OutboundCall } from './signaling.ts';

type TrunkConfig = Config['voice']['trunks'][number];

/** The INVITE drachtio-srf sent (its echo from the server), as far as CANCEL needs it. */
interface SentInvite {
  uri: string;
  stackTxnId: string;
  cancel(callback: (err: unknown) => void): void;
}

/** An outbound INVITE waiting for its final answer. */
export interface PendingInvite {
  /** Set once drachtio-server has sent it. */
  sent: SentInvite | undefined;
  /** Settles the call with `err` (the connection dropped: no answer can reach us any more). */
  fail(err: SipCallError): void;
}

/** The request URI towards the trunk (transport a URI parameter, so inside any brackets). */
export function inviteUri(to: string, trunk: TrunkConfig): string {
  return `sip:${to}@${trunk.host}:${trunk.port};transport=${trunk.transport}`;
}

function sipError(err: unknown): SipCallError {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return new SipCallError(status, `the call was refused with SIP ${status}`);
  // drachtio-srf rejects with an Error, or with the server's reason as a bare string.
  const text = err instanceof Error ? err.message : String(err);
  return new SipCallError(500, `the call failed: ${text || 'no reason given'}`);
}

/**
 * Sends the INVITE and settles exactly once: with the dialog on 200, a SipCallError on a
 * failure answer, 487 after `request.signal` aborted (CANCEL is sent as soon as the INVITE is
 * out; a 200 that crossed the CANCEL has been ACKed by drachtio-srf and is ended with BYE at
 * once), or through `PendingInvite.fail` when the connection drops first.
 */
export function sendInvite(srf: Srf, trunk: TrunkConfig, request: OutboundCall, inFlight: Set<PendingInvite>): Promise<Srf.Dialog> {
  const { signal } = request;
  if (signal.aborted) return Promise.reject(new SipCallError(487, 'the call was canceled before it was placed'));
  return new Promise((resolve, reject) => {
    let settled = false;
    const cancel = () => {
      try {
        pending.sent?.cancel(() => undefined);
      } catch {
        // The connection is gone; the signaling backlog cancels on the next one.
      }
    };
    const settle = (err: SipCallError | null, dialog?: Srf.Dialog) => {
      if (settled) {
        // Answered after the connection was given up: nobody waits for this dialog any more.
        dialog?.destroy(undefined, () => undefined);
        return;
      }
      settled = true;
      done();
      if (dialog && signal.aborted) {
        // The 200 crossed our CANCEL; drachtio-srf has ACKed it, so the dialog exists: BYE it now.
        dialog.destroy(undefined, () => reject(new SipCallError(487, 'the call was canceled; the answer that crossed the CANCEL was ended with BYE')));
        return;
      }
      if (err) reject(err);
      else resolve(dialog as Srf.Dialog);
    };
    const done = () => {
      inFlight.delete(pending);
      signal.removeEventListener('abort', cancel);
    };
    const pending: PendingInvite = { sent: undefined, fail: (err) => settle(err) };
    inFlight.add(pending);
    signal.addEventListener('abort', cancel);
    const from = `<sip:${request.from}@${trunk.host}>`;
    srf.createUAC(
      inviteUri(request.to, trunk),
      {
        localSdp: request.offer,
        headers: { From: from, To: `<sip:${request.to}@${trunk.host}>`, 'P-Asserted-Identity': from },
        ...(trunk.username && trunk.password && { auth: { username: trunk.username, password: trunk.password } }),
      },
      // drachtio-srf calls cbRequest(err, req): the INVITE is the second argument (its typings say the first).
      {
        cbRequest: ((_err: unknown, req?: SentInvite) => {
          if (!req) return;
          pending.sent = req;
          if (signal.aborted) cancel();
        }) as unknown as (req: Srf.SrfRequest) => void,
      },
      (err: unknown, dialog: Srf.Dialog) => settle(err ? sipError(err) : null, dialog),
    );
  });
}
