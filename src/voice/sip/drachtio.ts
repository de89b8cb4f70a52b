import Srf from 'drachtio-srf';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../logging/index.ts';
import { DrachtioDialog, SignalingBacklog, type SrfRequester } from './drachtio-dialog.ts';
import { sendInvite, type PendingInvite } from './drachtio-uac.ts';
import { ackAnswer, answerInvite } from './drachtio-uas.ts';
import { SignalingLostError, SipCallError, type IncomingCall, type OutboundCall, type SignalingStatus, type SipDialog, type SipSignaling, type TrunkStatus } from './signaling.ts';

type VoiceConfig = Config['voice'];
type TrunkConfig = VoiceConfig['trunks'][number];

/** The user part of a SIP URI as E.164 (a leading + added to bare digits). */
export function e164FromUri(uri: string): string {
  const user = /^(?:sips?|tel):\+?([^@;>]+)/i.exec(uri.replace(/^.*</, ''))?.[1] ?? '';
  const digits = user.replace(/[^0-9]/g, '');
  return digits ? `+${digits}` : user;
}

/** Registration refresh point: 80 % of the granted expiry, at least 30 s before it. */
export function refreshDelayMs(expiresS: number): number {
  return Math.max(5_000, Math.min(expiresS * 800, (expiresS - 30) * 1000));
}

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
  private readonly trunks = new Map<string, TrunkStatus>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly dialogs = new Set<DrachtioDialog>();
  private readonly invites = new Set<PendingInvite>();
  private readonly backlog: SignalingBacklog;
  private handler: ((call: IncomingCall) => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly config: VoiceConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ mod: 'sip' });
    this.backlog = new SignalingBacklog(this.log);
    for (const t of config.trunks) {
      this.trunks.set(t.name, { name: t.name, kind: t.register ? 'register' : 'ip', state: t.register ? 'registering' : 'ip', expiresAt: null, lastError: null });
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
      for (const t of this.config.trunks) if (t.register) this.register(t);
    });
    this.srf.on('error', (err) => this.log.warn({ err: err.message }, 'drachtio connection error'));
    this.srf.on('disconnect', () => this.lost());
    (this.srf as unknown as { on(e: 'close' | 'reconnecting', fn: () => void): void }).on('close', () => this.lost());
    this.srf.invite((req, res) => this.onInviteRequest(req, res));
    // reconnect: drachtio-srf's wire protocol retries with a 1.7× backoff up to this delay.
    void this.srf.connect({ host: d.host, port: d.port, secret: d.secret, reconnect: { retryMaxDelay: 30_000 } } as Srf.SrfConfig);
  }

  async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.srf.disconnect();
    this.connected = false;
  }

  status(): SignalingStatus {
    return { connected: this.connected, trunks: [...this.trunks.values()] };
  }

  async call(request: OutboundCall): Promise<{ dialog: SipDialog; answer: string }> {
    const trunk = this.config.trunks[0];
    if (!trunk) throw new SipCallError(503, 'no SIP trunk configured for outbound calls');
    if (!this.connected) throw new SipCallError(503, 'not connected to the drachtio-server');
    const dialog = await sendInvite(this.srf, trunk, request, this.invites);
    return { dialog: this.track(dialog), answer: dialog.remote.sdp };
  }

  private onInviteRequest(req: Srf.SrfRequest, res: Srf.SrfResponse): void {
    if (!this.handler) {
      res.send(503);
      return;
    }
    const cancelFns: Array<() => void> = [];
    req.on('cancel', () => {
      for (const fn of cancelFns) fn();
    });
    const to = e164FromUri(req.uri) || e164FromUri(req.get('To'));
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
    for (const t of this.trunks.values()) if (t.kind === 'register') t.state = 'registering';
  }

  private register(t: TrunkConfig): void {
    const status = this.trunks.get(t.name) as TrunkStatus;
    clearTimeout(this.timers.get(t.name));
    const aor = `sip:${t.username ?? 'agentphone'}@${t.host}`;
    this.srf.request(
      `sip:${t.host}:${t.port};transport=${t.transport}`,
      {
        method: 'REGISTER',
        headers: { To: `<${aor}>`, From: `<${aor}>`, Contact: `<sip:${t.username ?? 'agentphone'}@localhost>`, Expires: String(t.registerExpiresS) },
        ...(t.username && t.password && { auth: { username: t.username, password: t.password } }),
      } as unknown as Srf.SrfRequest,
      'REGISTER' as never,
      [],
      (err: unknown, req: Srf.SrfRequest) => {
        if (err) {
          status.state = 'failed';
          status.lastError = (err as Error).message;
          this.retryRegister(t, 30);
          return;
        }
        req.on('response', (res) => {
          if (!res) return;
          if (res.status >= 200 && res.status < 300) {
            const granted = Number(/expires=(\d+)/i.exec(res.get('Contact') ?? '')?.[1] ?? res.get('Expires') ?? t.registerExpiresS);
            status.state = 'registered';
            status.lastError = null;
            status.expiresAt = new Date(Date.now() + granted * 1000).toISOString();
            this.log.info({ trunk: t.name, expiresS: granted }, 'trunk registered');
            this.retryRegister(t, granted, true);
          } else if (res.status >= 300) {
            status.state = 'failed';
            status.lastError = `REGISTER answered ${res.status}`;
            this.log.warn({ trunk: t.name, status: res.status }, 'trunk registration refused');
            this.retryRegister(t, 60);
          }
        });
      },
    );
  }

  private retryRegister(t: TrunkConfig, seconds: number, refresh = false): void {
    const delay = refresh ? refreshDelayMs(seconds) : seconds * 1000;
    const timer = setTimeout(() => this.connected && this.register(t), delay);
    timer.unref();
    this.timers.set(t.name, timer);
  }
}
