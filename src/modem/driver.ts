import { EventEmitter } from 'node:events';
import { waitOrTimeout } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import { AtChannel, type AtResponse, type CommandOptions } from './at/channel.ts';
import type { OpenTransport } from './at/transport.ts';
import type { RegistrationDomain, Urc } from './at/urc.ts';
import type { TimerClock, Timer } from '../clock/index.ts';
import { initializeModem, type DeliveryMode, type ModemIdentity } from './driver-init.ts';
import { ModemError } from './errors.ts';
import { Inbox, type InboundPdu } from './inbox.ts';
import { LineEventLog, type LineEvent } from './line-events.ts';
import type { ProfileClues } from './profile-detect.ts';
import type { Dialect, HardwareProfile } from './profiles.ts';
import { isRegistered, parseCops, parseCpmsQuery, parseCsq, parseMr, parseReg, registrationOf, valueOf, type Registration } from './responses.ts';

/** How long stop() waits, in wall time, for a connect attempt to see it and close its port. */
const STOP_WAIT_MS = 5_000;

export type LineState = 'connecting' | 'initializing' | 'ready' | 'degraded' | 'disconnected';

export interface SubmitPdu {
  /** Hex PDU including the SMSC field (usually "00"). */
  hex: string;
  /** TPDU length in octets, without the SMSC field: the AT+CMGS parameter. */
  tpduLength: number;
}

export interface SendHooks {
  /** Runs just before AT+CMGS is written (after the line state check); throwing cancels the send. */
  onSubmitting?: () => void;
}

/**
 * A line's AT port for vendor applications on the modem (its own MMS client): commands share
 * the one-at-a-time channel with SMS, so an MMS upload never corrupts a send in flight.
 */
export interface LineAtPort {
  /** The dialect of the modem now on the line, from its profile; undefined before it is initialised. */
  dialect(): Dialect | undefined;
  /** Runs one command; resolves with its information lines, rejects with a ModemError. */
  command(command: string, options?: { timeoutMs?: number; upload?: Uint8Array }): Promise<string[]>;
  /** The next unsolicited line that starts with `prefix`; rejects with a timeout ModemError. */
  waitFor(prefix: string, timeoutMs: number): Promise<string>;
}

export interface DriverStatus {
  lineId: string;
  state: LineState;
  path: string | undefined;
  profile: string | undefined;
  identity: ModemIdentity;
  rssi: number | undefined;
  signalDbm: number | undefined;
  registration: Registration;
  operator: string | undefined;
  lastError: string | undefined;
  consecutiveTimeouts: number;
  /** How new messages reach the gateway now; undefined before the modem is initialised. */
  delivery: DeliveryMode | undefined;
}

export interface DriverOptions {
  lineId: string;
  /** Configured device path; may be absent when the line is found by USB id or identity. */
  path?: string;
  profile?: HardwareProfile;
  profiles: HardwareProfile[];
  /** The USB ids of the port at a path (a clue for detecting the profile when none is set). */
  usbIdOf?: (path: string) => Promise<ProfileClues['usb']>;
  pin?: string;
  number?: string;
  /** storage (+CMTI) or direct (+CMT/+CDS with AT+CNMA); absent: the profile's, else storage. */
  deliveryMode?: DeliveryMode;
  openTransport: OpenTransport;
  /** Other paths where this modem might be now (after a replug), best first. */
  locate?: () => Promise<string[]>;
  /** Claims a path for this line; false when another line holds it. */
  claim?: (path: string) => boolean;
  release?: (path: string) => void;
  clock: TimerClock;
  logger: Logger;
  commandTimeoutMs?: number;
  sendTimeoutMs?: number;
  healthIntervalMs?: number;
  resetAfterTimeouts?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  simBusyRetries?: number;
  simBusyDelayMs?: number;
}

/** Driver settings with defaults, which the pool may set for all its lines. */
export type TunableOption =
  | 'commandTimeoutMs'
  | 'sendTimeoutMs'
  | 'healthIntervalMs'
  | 'resetAfterTimeouts'
  | 'reconnectInitialMs'
  | 'reconnectMaxMs'
  | 'simBusyRetries'
  | 'simBusyDelayMs';

export interface DriverEvents {
  state: [LineState, LineState];
  pdu: [InboundPdu];
  urc: [Urc];
}

/** Reconnect delay for the n-th consecutive failure: doubling, capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
}

/**
 * One modem: connects, initialises from its profile, keeps it healthy, sends PDUs,
 * hands received PDUs out, and reconnects (at whatever path the modem reappears) when lost.
 */
export class ModemDriver extends EventEmitter<DriverEvents> {
  readonly lineId: string;
  #o: DriverOptions & Required<Pick<DriverOptions, TunableOption>>;
  #log: Logger;
  #state: LineState = 'disconnected';
  #channel: AtChannel | undefined;
  #path: string | undefined;
  #profile: HardwareProfile | undefined;
  #identity: ModemIdentity = {};
  #health = { rssi: undefined as number | undefined, signalDbm: undefined as number | undefined, registration: 'unknown' as Registration, operator: undefined as string | undefined };
  #lastError: string | undefined;
  /** Registration per domain, from polls and URCs; the line's registration is derived from them. */
  #reg: Record<RegistrationDomain, Registration> = { cs: 'unknown', ps: 'unknown', eps: 'unknown' };
  #events: LineEventLog;
  #delivery: { mode: DeliveryMode; cnmi: string } | undefined;
  #timeouts = 0;
  #attempt = 0;
  #timer: Timer | undefined;
  #stopped = true;
  #pollInbox = false;
  #inbox: Inbox | undefined;
  #resetting = false;
  #connecting = false;
  #atPort: LineAtPort | undefined;

  constructor(options: DriverOptions) {
    super();
    this.lineId = options.lineId;
    this.#o = {
      commandTimeoutMs: 10_000,
      sendTimeoutMs: options.profile?.sendTimeoutMs ?? 120_000,
      healthIntervalMs: 30_000,
      resetAfterTimeouts: 3,
      reconnectInitialMs: 1_000,
      reconnectMaxMs: 60_000,
      simBusyRetries: 20,
      simBusyDelayMs: 1_000,
      // An option passed as undefined (the pool forwards unset config) keeps its default.
      ...(Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as DriverOptions),
    };
    this.#log = options.logger.child({ mod: 'modem', line: options.lineId });
    this.#events = new LineEventLog(() => this.#o.clock.now());
  }

  get state(): LineState {
    return this.#state;
  }

  status(): DriverStatus {
    return {
      lineId: this.lineId,
      state: this.#state,
      path: this.#path,
      profile: this.#profile?.id,
      identity: { ...this.#identity },
      ...this.#health,
      lastError: this.#lastError,
      consecutiveTimeouts: this.#timeouts,
      delivery: this.#delivery?.mode,
    };
  }

  /** The line's recent history (state, registration, errors, recoveries), oldest first. */
  events(): LineEvent[] {
    return this.#events.list();
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#runConnect();
  }

  /**
   * Closes the port, and waits (up to STOP_WAIT_MS of wall time) for a connect attempt under way: a port still opening when stop()
   * is called is closed as it opens, so nothing is left open behind a stopped driver (a serial
   * port open at process exit can abort it: its poll callback cannot call into JS then).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    const channel = this.#channel;
    this.#channel = undefined;
    if (channel) await channel.close();
    const run = this.#connectRun;
    if (run) await waitOrTimeout((done) => void run.then(done, done), STOP_WAIT_MS);
    this.#releasePath();
    this.#setState('disconnected');
  }

  /** AT+CMGS=<len> → "> " → PDU + Ctrl-Z → +CMGS: <mr>. */
  async send(pdu: SubmitPdu, hooks: SendHooks = {}): Promise<{ mr: number }> {
    const channel = this.#channel;
    if (!channel || (this.#state !== 'ready' && this.#state !== 'degraded')) {
      throw new ModemError(`line ${this.lineId} is ${this.#state}`, { kind: 'unavailable', retryable: true });
    }
    hooks.onSubmitting?.();
    const response = await this.#cmd(`AT+CMGS=${pdu.tpduLength}`, { payload: pdu.hex, timeoutMs: this.#o.sendTimeoutMs });
    const mr = parseMr(response.lines);
    if (mr === undefined) throw new ModemError('AT+CMGS answered without a message reference', { kind: 'error', command: 'AT+CMGS', retryable: true });
    return { mr };
  }

  /** This line's AT port for the modem's own applications (see LineAtPort). */
  atPort(): LineAtPort {
    return (this.#atPort ??= {
      dialect: () => this.#profile?.dialect,
      command: async (command, options = {}) => {
        if (this.#state !== 'ready' && this.#state !== 'degraded') {
          throw new ModemError(`line ${this.lineId} is ${this.#state}`, { kind: 'unavailable', retryable: true, command });
        }
        return (await this.#cmd(command, options)).lines;
      },
      waitFor: (prefix, timeoutMs) =>
        new Promise((resolve, reject) => {
          const onUrc = (urc: Urc) => {
            if (urc.type !== 'vendor' || !urc.raw.toUpperCase().startsWith(prefix.toUpperCase())) return;
            timer.cancel();
            this.off('urc', onUrc);
            resolve(urc.raw);
          };
          const timer = this.#o.clock.setTimeout(() => {
            this.off('urc', onUrc);
            reject(new ModemError(`no ${prefix} from the modem within ${timeoutMs} ms`, { kind: 'timeout', retryable: true }));
          }, timeoutMs);
          this.on('urc', onUrc);
        }),
    });
  }

  /** Reads everything stored on the modem again (after a restart of the caller, or SIM full). */
  async drain(): Promise<number> {
    return this.#inbox ? this.#inbox.drain() : 0;
  }

  /** Runs one health poll now (tests and the admin API use it; the timer does it otherwise). */
  async checkHealth(): Promise<void> {
    const channel = this.#channel;
    if (!channel || this.#state === 'connecting' || this.#state === 'disconnected') return;
    try {
      Object.assign(this.#health, parseCsq((await this.#cmd('AT+CSQ')).lines));
      this.#noteRegistration('cs', parseReg((await this.#cmd('AT+CREG?')).lines, '+CREG:'));
      if (this.#profile?.lte && !isRegistered(this.#reg.cs)) {
        const eps = await this.#cmd('AT+CEREG?').then((r) => parseReg(r.lines, '+CEREG:'), () => undefined);
        if (eps !== undefined) this.#noteRegistration('eps', eps);
      }
      const registration = this.#health.registration;
      this.#health.operator = await this.#cmd('AT+COPS?').then((r) => parseCops(r.lines), () => this.#health.operator);
      const storage = await this.#cmd('AT+CPMS?').then((r) => parseCpmsQuery(r.lines), () => undefined);
      const rearmed = await this.#checkRouting();
      if ((storage && storage.used >= storage.total && storage.total > 0) || this.#pollInbox || rearmed) await this.drain();
      this.#setState(isRegistered(registration) ? 'ready' : 'degraded');
      if (isRegistered(registration)) this.#clearError();
    } catch (error) {
      this.#noteError(error);
      if (this.#channel === channel && !channel.closed) this.#setState('degraded');
    }
  }

  #setState(next: LineState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#log.info({ state: next, previous }, 'line state');
    this.#events.add('state', `${next} (was ${previous})`);
    if (next === 'ready') this.#clearError();
    this.emit('state', next, previous);
  }

  /** The line is healthy again: the error is history (kept in the event log), not the present. */
  #clearError(): void {
    if (this.#lastError === undefined) return;
    this.#events.add('recovered', this.#lastError);
    this.#lastError = undefined;
  }

  /** One domain's registration (poll or URC); the line counts as registered on CS, or on EPS for LTE models. */
  #noteRegistration(domain: RegistrationDomain, registration: Registration): void {
    if (this.#reg[domain] !== registration) {
      this.#reg[domain] = registration;
      this.#events.add('registration', `${domain} ${registration}`);
      this.#log.info({ domain, registration }, 'registration changed');
    }
    const { cs, eps } = this.#reg;
    this.#health.registration = isRegistered(cs) ? cs : this.#profile?.lte && isRegistered(eps) ? eps : cs;
  }

  /**
   * Direct delivery only: a modem whose +CMT/+CDS went unacknowledged turns routing off
   * (27.005 +CNMA: <mt> and <ds> set to 0), so later messages sit in storage unannounced.
   * Turns it back on; true when it did (the caller then reads the storage).
   */
  async #checkRouting(): Promise<boolean> {
    const delivery = this.#delivery;
    if (delivery?.mode !== 'direct') return false;
    const current = await this.#cmd('AT+CNMI?').then((r) => valueOf(r.lines, '+CNMI:'), () => undefined);
    const wanted = delivery.cnmi.replace(/^AT\+CNMI=/i, '').split(',');
    const now = current?.split(',').map((p) => p.trim());
    if (!now || (now[1] === wanted[1] && now[3] === wanted[3])) return false;
    await this.#rearmRouting();
    return true;
  }

  async #rearmRouting(): Promise<void> {
    const delivery = this.#delivery;
    if (delivery?.mode !== 'direct') return;
    this.#log.warn('modem turned direct delivery off (an acknowledgement came too late); turning it on again');
    this.#events.add('routing', 'direct delivery re-enabled after a missed acknowledgement');
    await this.#cmd(delivery.cnmi);
  }

  async #cmd(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    const channel = this.#channel;
    if (!channel) throw new ModemError('port closed', { kind: 'closed', command });
    try {
      const response = await channel.command(command, { timeoutMs: this.#o.commandTimeoutMs, ...options });
      this.#timeouts = 0;
      return response;
    } catch (error) {
      if (error instanceof ModemError && (error.kind === 'timeout' || error.kind === 'no-prompt')) {
        this.#timeouts++;
        if (this.#timeouts >= this.#o.resetAfterTimeouts) void this.#softReset(channel);
      } else if (error instanceof ModemError && error.kind !== 'closed') {
        this.#timeouts = 0;
      }
      this.#noteError(error);
      throw error;
    }
  }

  #noteError(error: unknown): void {
    this.#lastError = error instanceof Error ? error.message : String(error);
    this.#events.add('error', this.#lastError);
  }

  /** The connect attempt under way, which stop() waits for. */
  #connectRun: Promise<void> | undefined;

  #runConnect(): void {
    const run = this.#connect().finally(() => {
      if (this.#connectRun === run) this.#connectRun = undefined;
    });
    this.#connectRun = run;
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    this.#setState('connecting');
    this.#connecting = true;
    try {
      if (await this.#tryCandidates()) return;
    } finally {
      this.#connecting = false;
    }
    this.#scheduleReconnect();
  }

  async #tryCandidates(): Promise<boolean> {
    for (const path of await this.#candidates()) {
      if (this.#stopped) return false;
      if (this.#o.claim && !this.#o.claim(path)) continue;
      try {
        await this.#openAndInit(path);
        this.#attempt = 0;
        return true;
      } catch (error) {
        if (this.#stopped) return false; // stop() closed the port under the init: not a fault
        this.#noteError(error);
        this.#log.warn({ path, err: this.#lastError }, 'connect attempt failed');
        const channel = this.#channel;
        this.#channel = undefined;
        if (channel) await channel.close();
        this.#o.release?.(path);
        if (this.#path === path) this.#path = undefined;
      }
    }
    return false;
  }

  async #candidates(): Promise<string[]> {
    const located = this.#o.locate ? await this.#o.locate().catch(() => []) : [];
    const ordered = [this.#path, this.#o.path, ...located].filter((p): p is string => typeof p === 'string');
    return [...new Set(ordered)];
  }

  async #openAndInit(path: string): Promise<void> {
    const transport = await this.#o.openTransport(path);
    if (this.#stopped) {
      await transport.close();
      throw new ModemError(`line ${this.lineId} stopped while its port opened`, { kind: 'unavailable' });
    }
    const channel = new AtChannel(transport, { clock: this.#o.clock, logger: this.#log, defaultTimeoutMs: this.#o.commandTimeoutMs });
    this.#channel = channel;
    this.#path = path;
    channel.on('close', () => this.#onLost(channel));
    channel.on('garbage', (line) => this.#log.debug({ length: line.length }, 'ignored unparseable line'));
    this.#setState('initializing');
    const known = this.#identity.imei || this.#identity.iccid ? { imei: this.#identity.imei, iccid: this.#identity.iccid } : undefined;
    const init = await initializeModem({
      channel,
      clock: this.#o.clock,
      logger: this.#log,
      profile: this.#o.profile,
      profiles: this.#o.profiles,
      usb: this.#o.profile || !this.#o.usbIdOf ? undefined : await this.#o.usbIdOf(path).catch(() => undefined),
      pin: this.#o.pin,
      number: this.#o.number,
      deliveryMode: this.#o.deliveryMode,
      expected: known,
      commandTimeoutMs: this.#o.commandTimeoutMs,
      simBusyRetries: this.#o.simBusyRetries,
      simBusyDelayMs: this.#o.simBusyDelayMs,
    });
    if (this.#channel !== channel) throw new ModemError('port closed during init', { kind: 'closed' });
    this.#identity = init.identity;
    this.#profile = init.profile;
    this.#pollInbox = init.pollInbox;
    this.#delivery = { mode: init.delivery, cnmi: init.cnmi };
    // Registration URCs from before this init described another session of the modem.
    this.#reg = { cs: 'unknown', ps: 'unknown', eps: 'unknown' };
    this.#timeouts = 0;
    const ctx = {
      lineId: this.lineId,
      channel,
      profile: init.profile,
      logger: this.#log,
      commandTimeoutMs: this.#o.commandTimeoutMs,
      ackDirect: init.ackDirect,
      onAckRefused: () => {
        void this.#rearmRouting().then(() => this.drain()).catch((error: unknown) => this.#noteError(error));
      },
      emit: (pdu: InboundPdu) => this.emit('pdu', pdu),
    };
    if (this.#inbox) this.#inbox.reset(ctx);
    else this.#inbox = new Inbox(ctx);
    channel.on('urc', (urc) => this.#onUrc(channel, urc));
    this.#log.info({ path, profile: init.profile.id, model: init.identity.model }, 'modem initialised');
    await this.checkHealth();
    await this.drain().catch((error: unknown) => this.#noteError(error));
    // Lost while finishing up: let the connect loop carry on rather than stall as "ready".
    if (this.#channel !== channel || channel.closed) throw new ModemError('port lost during init', { kind: 'closed' });
    this.#scheduleHealth();
  }

  #onUrc(channel: AtChannel, urc: Urc): void {
    if (channel !== this.#channel) return;
    this.emit('urc', urc);
    switch (urc.type) {
      case 'boot':
        // The modem restarted on its own: its settings (PDU mode, CNMI) are gone.
        if (!this.#resetting) void this.#reinit(channel);
        break;
      case 'registration':
        // Seen at once rather than at the next health poll: sends stop going to a line without network.
        this.#noteRegistration(urc.domain, registrationOf(urc.stat));
        if (this.#state === 'ready' || this.#state === 'degraded') this.#setState(isRegistered(this.#health.registration) ? 'ready' : 'degraded');
        break;
      case 'malformed':
        this.#log.warn({ urc: urc.head, reason: urc.reason }, 'ignored a malformed unsolicited result');
        break;
      case 'signal':
        this.#health.rssi = urc.rssi === 99 ? undefined : urc.rssi;
        this.#health.signalDbm = this.#health.rssi === undefined ? undefined : -113 + 2 * this.#health.rssi;
        break;
      default:
        this.#inbox?.handleUrc(urc);
    }
  }

  async #reinit(channel: AtChannel): Promise<void> {
    if (this.#channel !== channel) return;
    this.#log.warn('modem rebooted; re-initialising');
    this.#channel = undefined;
    await channel.close();
  }

  async #softReset(channel: AtChannel): Promise<void> {
    if (this.#resetting || this.#channel !== channel) return;
    this.#resetting = true;
    this.#log.warn({ timeouts: this.#timeouts }, 'modem unresponsive; soft reset');
    try {
      await channel.escape();
      for (const command of this.#profile?.resetCommands ?? ['AT+CFUN=1,1']) {
        // No resynchronising handshake first: the reset is the recovery.
        await channel.command(command, { timeoutMs: this.#o.commandTimeoutMs, skipResync: true }).catch(() => undefined);
      }
    } finally {
      this.#resetting = false;
      this.#timeouts = 0;
      // Re-open from scratch: a reset that re-enumerates USB takes the port away anyway.
      if (this.#channel === channel) {
        this.#channel = undefined;
        await channel.close();
      }
    }
  }

  #onLost(channel: AtChannel): void {
    if (this.#channel === channel) this.#channel = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#stopped || this.#connecting) return; // the connect loop moves on by itself
    this.#releasePath();
    this.#log.warn({ path: this.#path }, 'port lost');
    this.#setState('disconnected');
    this.#scheduleReconnect(true);
  }

  #releasePath(): void {
    if (this.#path) this.#o.release?.(this.#path);
  }

  #scheduleReconnect(immediate = false): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#setState('disconnected');
    const waitMs = immediate && this.#attempt === 0 ? 0 : backoffMs(this.#attempt, this.#o.reconnectInitialMs, this.#o.reconnectMaxMs);
    this.#attempt++;
    this.#timer = this.#o.clock.setTimeout(() => this.#runConnect(), waitMs);
  }

  #scheduleHealth(): void {
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.checkHealth().finally(() => {
        if (this.#channel && !this.#stopped) this.#scheduleHealth();
      });
    }, this.#o.healthIntervalMs);
  }
}
