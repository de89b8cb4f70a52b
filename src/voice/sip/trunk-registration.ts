import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { TrunkStatus } from './signaling.ts';
import { contactUser } from './trunk-policy.ts';

type TrunkConfig = Config['voice']['trunks'][number];

/**
 * Registration refresh point: 80 % of the granted expiry and at least 30 s before it, but never
 * later than half of it (a registrar may grant far less than we asked for).
 */
export function refreshDelayMs(expiresS: number): number {
  return Math.max(1000, expiresS * 500, Math.min(expiresS * 800, (expiresS - 30) * 1000));
}

/** A response to our REGISTER, as drachtio-srf hands it over. */
export interface RegisterResponse {
  status: number;
  /** The address the response came from: the registrar, or the proxy in front of it. */
  source_address?: string;
  get(name: string): string | undefined;
}

/**
 * drachtio-srf's `Srf#request(uri, opts, callback)` as it really is (its bundled typings give it
 * a method and body argument it does not take). Given `auth`, drachtio-srf answers a 401/407
 * challenge itself: same Call-ID, CSeq + 1, and the listeners move to the new request.
 */
export interface SipRequester {
  request(
    uri: string,
    opts: { method: 'REGISTER'; headers: Record<string, string>; auth?: { username: string; password: string } },
    callback: (err: Error | null, sent: { on(event: 'response', fn: (res: RegisterResponse) => void): void }) => void,
  ): unknown;
}

const RETRY_AFTER_ERROR_S = 30;
const RETRY_AFTER_REFUSAL_S = 60;

/**
 * One trunk's registration: REGISTER with digest auth, refreshed before expiry under one Call-ID
 * with a rising CSeq (RFC 3261 §10.2), retried after failures while signaling is up.
 */
export class TrunkRegistration {
  readonly status: TrunkStatus;
  private readonly callId = randomUUID();
  private cseq = 0;
  private expiresS: number;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped on start and pause: answers to a REGISTER from an earlier connection are ignored. */
  private epoch = 0;
  private active = false;

  constructor(
    private readonly trunk: TrunkConfig,
    private readonly requester: SipRequester,
    private readonly log: Logger,
    /** The registrar answered from this address (calls may come from there). */
    private readonly onRegistrar: (address: string) => void,
  ) {
    this.expiresS = trunk.registerExpiresS;
    this.status = { name: trunk.name, kind: 'register', state: 'registering', expiresAt: null, lastError: null };
  }

  /** Signaling is up: register now. */
  start(): void {
    this.epoch++;
    this.active = true;
    this.send();
  }

  /** Signaling is down: nothing is sent until start() (the registration may still be valid there). */
  pause(): void {
    this.epoch++;
    this.active = false;
    clearTimeout(this.timer);
    this.status.state = 'registering';
  }

  private send(): void {
    clearTimeout(this.timer);
    const epoch = this.epoch;
    this.cseq++;
    try {
      this.request(epoch);
    } catch (err) {
      // drachtio-srf throws (rather than calling back) when its socket is already gone.
      this.fail((err as Error).message, RETRY_AFTER_ERROR_S);
    }
  }

  private request(epoch: number): void {
    const t = this.trunk;
    const user = contactUser(t);
    const aor = `sip:${user}@${t.host}`;
    this.requester.request(
      `sip:${t.host}:${t.port};transport=${t.transport}`,
      {
        method: 'REGISTER',
        headers: {
          To: `<${aor}>`,
          From: `<${aor}>`,
          // drachtio-server puts its own SIP address where the Contact says localhost.
          Contact: `<sip:${user}@localhost>`,
          Expires: String(this.expiresS),
          'Call-ID': this.callId,
          CSeq: `${this.cseq} REGISTER`,
        },
        ...(t.username && t.password && { auth: { username: t.username, password: t.password } }),
      },
      (err, sent) => {
        if (epoch !== this.epoch) return;
        if (err) {
          this.fail(err.message, RETRY_AFTER_ERROR_S);
          return;
        }
        sent.on('response', (res) => {
          if (epoch === this.epoch && res.status >= 200) this.answered(res);
        });
      },
    );
  }

  private answered(res: RegisterResponse): void {
    // An answered challenge went out with a higher CSeq than ours: continue after it.
    this.cseq = Math.max(this.cseq, Number.parseInt(res.get('CSeq') ?? '', 10) || 0);
    if (res.status >= 200 && res.status < 300) {
      const granted = grantedExpiresS(res, this.expiresS);
      if (res.source_address) this.onRegistrar(res.source_address);
      Object.assign(this.status, { state: 'registered', lastError: null, expiresAt: new Date(Date.now() + granted * 1000).toISOString() });
      this.log.info({ trunk: this.trunk.name, expiresS: granted }, 'trunk registered');
      this.schedule(refreshDelayMs(granted));
      return;
    }
    const minExpires = Number.parseInt(res.get('Min-Expires') ?? '', 10);
    if (res.status === 423 && minExpires > this.expiresS) {
      this.expiresS = minExpires;
      this.send();
      return;
    }
    this.log.warn({ trunk: this.trunk.name, status: res.status }, 'trunk registration refused');
    this.fail(`REGISTER answered ${res.status}`, RETRY_AFTER_REFUSAL_S);
  }

  private fail(message: string, retryS: number): void {
    Object.assign(this.status, { state: 'failed', lastError: message, expiresAt: null });
    this.schedule(retryS * 1000);
  }

  private schedule(delayMs: number): void {
    if (!this.active) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.active && this.send(), delayMs);
    this.timer.unref();
  }
}

/** The expiry the registrar granted: our Contact's expires parameter, else the Expires header. */
function grantedExpiresS(res: RegisterResponse, asked: number): number {
  const fromContact = /;\s*expires=(\d+)/i.exec(res.get('Contact') ?? '')?.[1];
  const granted = Number.parseInt(fromContact ?? res.get('Expires') ?? '', 10);
  return Number.isFinite(granted) && granted > 0 ? granted : asked;
}
