import Srf from 'drachtio-srf';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { VoiceMetrics } from '../metrics.ts';
import { DrachtioDialog, SignalingBacklog, type SrfRequester } from './drachtio-dialog.ts';
import { sendInvite, type PendingInvite } from './drachtio-uac.ts';
import { ackAnswer, answerInvite } from './drachtio-uas.ts';
import { SignalingLostError, SipCallError, type IncomingCall, type OutboundCall, type SignalingStatus, type SipDialog, type SipSignaling, type TrunkStatus } from './signaling.ts';
import { CallerPolicy, dialledNumber, e164FromUri } from './trunk-policy.ts';
import { TrunkRegistration, type SipRequester } from './trunk-registration.ts';

type VoiceConfig = Config['voice'];

/**
 * SipSignaling over drachtio-srf: the gateway is a drachtio application connected to a
 * drachtio-server's admin port. drachtio-srf reconnects with backoff by itself; on every
 * (re)connect the trunks register again. When the connection drops, calls end here at once
 * (their media stops with them) and INVITEs still ringing fail; the BYE and CANCEL they owe the
 * far end go out on the next connection (SignalingBacklog).
 */
export class DrachtioSignaling implements SipSignaling {
  private readonly srf = new Srf();
  private connected = false;
  private readonly ipTrunks: TrunkStatus[] = [];
  private readonly registrations: TrunkRegistration[] = [];
  private readonly callers: CallerPolicy;
  private readonly dialogs = new Set<DrachtioDialog>();
  private readonly invites = new Set<PendingInvite>();
  private readonly backlog: SignalingBacklog;
  private handler: ((call: IncomingCall) => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly config: VoiceConfig,
    logger: Logger,
    private readonly metrics?: VoiceMetrics,
  ) {
    this.log = logger.child({ mod: 'sip' });
    this.backlog = new SignalingBacklog(this.log);
    this.callers = new CallerPolicy(config.trunks);
    const requester = this.srf as unknown as SipRequester;
    for (const t of config.trunks) {
      if (t.register) this.registrations.push(new TrunkRegistration(t, requester, this.log, (address) => this.callers.learnRegistrar(t.name, address)));
      else this.ipTrunks.push({ name: t.name, kind: 'ip', state: 'ip', expiresAt: null, lastError: null });
    }
  }

  onInvite(handler: (call: IncomingCall) => void): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    const d = this.config.drachtio;
    if (!d) throw new SipCallError(503, 'voice.drachtio is not configured');
    this.srf.on('connect', (err) => {
      if (err) return;
      this.connected = true;
      this.log.info({ host: d.host, port: d.port }, 'connected to drachtio-server');
      this.backlog.flush(this.srf as unknown as SrfRequester);
      void this.refreshCallers();
      for (const r of this.registrations) r.start();
    });
    this.srf.on('error', (err) => this.log.warn({ err: err.message }, 'drachtio connection error'));
    this.srf.on('disconnect', () => this.lost());
    (this.srf as unknown as { on(e: 'close' | 'reconnecting', fn: () => void): void }).on('close', () => this.lost());
    this.srf.invite((req, res) => this.onInviteRequest(req, res));
    // reconnect: drachtio-srf's wire protocol retries with a 1.7× backoff up to this delay.
    void this.srf.connect({ host: d.host, port: d.port, secret: d.secret, reconnect: { retryMaxDelay: 30_000 } } as Srf.SrfConfig);
  }

  async stop(): Promise<void> {
    for (const r of this.registrations) r.pause();
    // drachtio-srf's disconnect throws when the server is already gone (no socket to end).
    if (this.connected) this.srf.disconnect();
    this.connected = false;
  }

  status(): SignalingStatus {
    return { connected: this.connected, trunks: [...this.registrations.map((r) => ({ ...r.status })), ...this.ipTrunks.map((t) => ({ ...t }))] };
  }

  async call(request: OutboundCall): Promise<{ dialog: SipDialog; answer: string }> {
    const trunk = this.config.trunks[0];
    if (!trunk) throw new SipCallError(503, 'no SIP trunk configured for outbound calls');
    if (!this.connected) throw new SipCallError(503, 'not connected to the drachtio-server');
    const dialog = await sendInvite(this.srf, trunk, request, this.invites);
    return { dialog: this.track(dialog), answer: dialog.remote.sdp };
  }

  private onInviteRequest(req: Srf.SrfRequest, res: Srf.SrfResponse): void {
    // Only the carriers' hosts may call in (else anyone who finds the SIP port makes calls on our numbers).
    const source = this.callers.check(req.source_address);
    if (!source.allowed) {
      this.metrics?.invitesRefused.inc({ reason: 'source_not_allowed' });
      this.log.warn({ source: req.source_address }, 'INVITE from a host that is no trunk: 403');
      res.send(403);
      return;
    }
    if (!this.handler) {
      res.send(503);
      return;
    }
    const cancelFns: Array<() => void> = [];
    req.on('cancel', () => {
      for (const fn of cancelFns) fn();
    });
    const to = dialledNumber(req.uri, req.get('To'), source.trunk);
    this.handler({
      sipCallId: req.callId,
      from: e164FromUri(req.get('From')),
      to,
      offer: req.body ?? req.sdp,
      onCancel: (fn) => cancelFns.push(fn),
      answer: async (sdp) => this.track(await answerInvite(this.srf, req, res, sdp)),
      answerWithOffer: async (offer) => {
        const dialog = this.track(await answerInvite(this.srf, req, res, offer));
        try {
          return { dialog, answer: await ackAnswer(dialog.dialog) };
        } catch (err) {
          await dialog.bye();
          throw err;
        }
      },
      reject: async (status) => {
        if (!res.finalResponseSent) res.send(status);
      },
    });
  }

  private track(dialog: Srf.Dialog): DrachtioDialog {
    const d = new DrachtioDialog(dialog, (x) => this.dialogs.delete(x));
    this.dialogs.add(d);
    return d;
  }

  private lost(): void {
    if (!this.connected) return;
    this.connected = false;
    this.log.warn('lost the drachtio-server; reconnecting');
    for (const p of [...this.invites]) {
      if (p.sent) this.backlog.cancel(p.sent);
      p.fail(new SignalingLostError());
    }
    for (const d of [...this.dialogs]) {
      this.backlog.bye(d.stackDialog);
      (this.srf as unknown as SrfRequester).removeDialog(d.dialog);
      d.end('lost');
    }
    for (const r of this.registrations) r.pause();
  }

  private async refreshCallers(): Promise<void> {
    for (const f of await this.callers.refresh()) this.log.warn({ trunk: f.trunk, host: f.host, err: f.error }, 'trunk allow host did not resolve');
  }
}
