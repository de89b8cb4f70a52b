import type Srf from 'drachtio-srf';
import type { Logger } from '../../logging/index.ts';
import { SdpError } from '../sdp/sdp.ts';
import { SipCallError, type SipDialog } from './signaling.ts';

/** The parts of drachtio-srf's Srf used to send requests on the current connection. */
export interface SrfRequester {
  request(uri: string, opts: { method: string; stackDialogId?: string; stackTxnId?: string }, callback: (err: unknown, req?: unknown) => void): unknown;
  removeDialog(dialog: Srf.Dialog): void;
}

/** A dialog as the drachtio-server knows it (drachtio-srf keeps the id on the 200's echo). */
interface StackDialog {
  id: string;
  remote: { uri: string };
}

/** An established call leg over drachtio-srf. */
export class DrachtioDialog implements SipDialog {
  private readonly endFns: Array<(reason: 'bye' | 'lost') => void> = [];
  private over = false;

  constructor(
    readonly dialog: Srf.Dialog,
    private readonly forget: (d: DrachtioDialog) => void,
  ) {
    dialog.on('destroy', () => this.end('bye'));
  }
  get sipCallId(): string {
    return this.dialog.sip.callId;
  }
  /** What a BYE sent later, on another connection to the same drachtio-server, needs. */
  get stackDialog(): { id: string; uri: string } {
    const d = this.dialog as unknown as StackDialog;
    return { id: d.id, uri: d.remote.uri };
  }
  onEnd(fn: (reason: 'bye' | 'lost') => void): void {
    this.endFns.push(fn);
  }
  /** The far end hung up, or the signaling connection dropped. */
  end(reason: 'bye' | 'lost'): void {
    if (this.over) return;
    this.over = true;
    this.forget(this);
    for (const fn of this.endFns) fn(reason);
  }
  onReinvite(fn: (offer: string) => string): void {
    this.dialog.on('modify', (req, res) => {
      try {
        res.send(200, { body: fn(req.body ?? req.sdp), headers: { 'Content-Type': 'application/sdp' } });
      } catch (err) {
        res.send(err instanceof SdpError ? 488 : 500);
      }
    });
  }
  bye(): Promise<void> {
    this.over = true;
    this.forget(this);
    return new Promise((resolve) => {
      try {
        this.dialog.destroy(undefined, () => resolve());
      } catch {
        resolve(); // the connection is gone; the backlog sends the BYE after reconnecting
      }
    });
  }
  async refer(to: string): Promise<void> {
    const host = /@([^;>]+)/.exec(this.dialog.remote.uri)?.[1] ?? '';
    const res = await this.dialog.request({ method: 'REFER', headers: { 'Refer-To': `<sip:${to}@${host}>` } } as unknown as Srf.SrfRequest);
    if (res.status >= 300) throw new SipCallError(res.status, `REFER refused with ${res.status}`);
  }
}

/** Bound on what is remembered while disconnected (each entry is a few short strings). */
const MAX_OWED = 10_000;

/**
 * Requests owed to far ends while the drachtio connection was down: a BYE for every dialog that
 * was up, a CANCEL for every INVITE still ringing. A drachtio-server that stayed up (only the
 * TCP link to it broke) still holds those dialogs and transactions, so they are sent on the
 * next connection; one that restarted has forgotten them and refuses each, which is logged.
 */
export class SignalingBacklog {
  private owed: Array<{ method: 'BYE' | 'CANCEL'; uri: string; stackDialogId?: string; stackTxnId?: string }> = [];

  constructor(private readonly log: Logger) {}

  bye(dialog: { id: string; uri: string }): void {
    if (this.owed.length < MAX_OWED && dialog.id) this.owed.push({ method: 'BYE', uri: dialog.uri, stackDialogId: dialog.id });
  }

  cancel(invite: { uri: string; stackTxnId: string }): void {
    if (this.owed.length < MAX_OWED && invite.stackTxnId) this.owed.push({ method: 'CANCEL', uri: invite.uri, stackTxnId: invite.stackTxnId });
  }

  /** Sends everything owed on the new connection. */
  flush(srf: SrfRequester): void {
    for (const o of this.owed.splice(0)) {
      const { uri, ...opts } = o;
      try {
        srf.request(uri, opts, (err) => {
          if (err) this.log.info({ method: o.method, err: String((err as Error).message ?? err) }, 'drachtio-server no longer knows the call; nothing to end');
          else this.log.info({ method: o.method }, 'ended a call left over from the lost drachtio connection');
        });
      } catch (err) {
        this.log.warn({ method: o.method, err }, 'could not send a request owed from the lost drachtio connection');
      }
    }
  }
}
