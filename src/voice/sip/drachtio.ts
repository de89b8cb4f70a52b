import Srf from 'drachtio-srf';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../logging/index.ts';
import { SdpError } from '../sdp/sdp.ts';
import { SipCallError, type IncomingCall, type OutboundCall, type SignalingStatus, type SipDialog, type SipSignaling, type TrunkStatus } from './signaling.ts';

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

class DrachtioDialog implements SipDialog {
  private readonly endFns: Array<(reason: 'bye' | 'lost') => void> = [];
  private over = false;

  constructor(
    private readonly dialog: Srf.Dialog,
    private readonly forget: (d: DrachtioDialog) => void,
  ) {
    dialog.on('destroy', () => this.end('bye'));
  }
  get sipCallId(): string {
    return this.dialog.sip.callId;
  }
  onEnd(fn: (reason: 'bye' | 'lost') => void): void {
    this.endFns.push(fn);
  }
  /** The signaling connection dropped: the dialog cannot be continued. */
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
    return new Promise((resolve) => this.dialog.destroy(undefined, () => resolve()));
  }
  async refer(to: string): Promise<void> {
    const host = /@([^;>]+)/.exec(this.dialog.remote.uri)?.[1] ?? '';
    const res = await this.dialog.request({ method: 'REFER', headers: { 'Refer-To': `<sip:${to}@${host}>` } } as unknown as Srf.SrfRequest);
    if (res.status >= 300) throw new SipCallError(res.status, `REFER refused with ${res.status}`);
  }
}

/**
 * SipSignaling over drachtio-srf: the gateway is a drachtio application connected to a
 * drachtio-server's admin port. drachtio-srf reconnects with backoff by itself; on every
 * (re)connect the trunks register again, and dialogs that were up when the connection dropped
 * are reported lost so their calls end cleanly.
 */
export class DrachtioSignaling implements SipSignaling {
  private readonly srf = new Srf();
  private connected = false;
  private readonly trunks = new Map<string, TrunkStatus>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly dialogs = new Set<DrachtioDialog>();
  private handler: ((call: IncomingCall) => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly config: VoiceConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ mod: 'sip' });
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
    let sent: Srf.SrfRequest | undefined;
    const onAbort = () => sent?.cancel(() => undefined);
    request.signal.addEventListener('abort', onAbort);
    try {
      const dialog = await this.srf.createUAC(
        `sip:${request.to}@${trunk.host}:${trunk.port};transport=${trunk.transport}`,
        {
          localSdp: request.offer,
          headers: { From: `<sip:${request.from}@${trunk.host}>`, 'P-Asserted-Identity': `<sip:${request.from}@${trunk.host}>` },
          ...(trunk.username && trunk.password && { auth: { username: trunk.username, password: trunk.password } }),
        },
        { cbRequest: (req) => (sent = req) },
      );
      const d = this.track(dialog);
      return { dialog: d, answer: dialog.remote.sdp };
    } catch (err) {
      const status = (err as { status?: number }).status;
      throw new SipCallError(status ?? 500, status ? `the call was refused with SIP ${status}` : `the call failed: ${(err as Error).message}`);
    } finally {
      request.signal.removeEventListener('abort', onAbort);
    }
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
      answer: async (sdp) => {
        return this.track(await this.srf.createUAS(req, res, { localSdp: sdp }));
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
    for (const d of [...this.dialogs]) d.end('lost');
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
