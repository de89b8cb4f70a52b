import { EventEmitter } from 'node:events';
import { decodePdu, encodeDeliver, encodeStatusReport, type Ports } from '../../sms/index.ts';
import { systemClock, type TimerClock } from '../../clock/index.ts';
import { loadProfiles, type Dialect } from '../profiles.ts';
import type { ModemMmsRequest, ModemMmsResult } from './mms-client.ts';
import { VirtualModem, type ModemNetworkPort } from './modem.ts';
import { MemorySubscriberInbox, type SubscriberInbox, type SubscriberMessage } from './subscriber-inbox.ts';

export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

export interface VirtualNetworkOptions {
  clock?: TimerClock;
  /** Time from Ctrl-Z to +CMGS (default 1–3 s, like a real network). */
  submitLatency?: LatencyRange;
  /** Time from a SUBMIT (or subscriber text) to the DELIVER reaching the other side. */
  deliverLatency?: LatencyRange;
  /** Time from a SUBMIT to its status report. */
  reportLatency?: LatencyRange;
  /** How long the network waits before delivering again a +CMT/+CDS the modem did not acknowledge. */
  redeliverAfterMs?: number;
  /** Seed for latency jitter, so runs repeat. */
  seed?: number;
  /** Where subscriber phones keep what they receive (default: in memory; the gateway's survives a restart). */
  inbox?: SubscriberInbox;
}

export interface VirtualLineOptions {
  lineId: string;
  number: string;
  dialect?: Dialect;
  pin?: string;
  storageSlots?: number;
  simBusyCount?: number;
  /** How the gateway takes this line's messages: storage (+CMTI) or direct (+CMT/+CDS with AT+CNMA). */
  deliveryMode?: 'storage' | 'direct';
}


/** Faults applied to the next parts the network carries (counters count down). */
export interface NetworkFaults {
  dropParts: number;
  duplicateParts: number;
  /** Deliver the next concatenated set in reverse order. */
  reorderNext: boolean;
  /** Answer the next N submits with this +CMS ERROR code. */
  rejectSubmits: { count: number; code: number };
  /** TP-ST for the next status reports (0 delivered, 0x40+ failed). */
  reportStatus: number;
  /** Keep status reports back until releaseHeldReports() (reports that come late, all at once). */
  holdReports: boolean;
}

export interface VirtualPortInfo {
  path: string;
  lineId: string;
  vendorId: string;
  productId: string;
  manufacturer: string;
}

interface PartialSet {
  from: string;
  to: string;
  parts: Map<number, string>;
  total: number;
  firstAt: number;
}

/**
 * Virtual modems and subscriber phones on one network: a SUBMIT from a modem becomes
 * DELIVER parts at the other end (a modem or a subscriber inbox), status reports come back,
 * every hop takes a configurable time, and faults can be injected on any of them.
 */
export class VirtualNetwork extends EventEmitter<{
  submit: [{ lineId: string; to: string; mr: number }];
  inbox: [string];
  delivered: [{ lineId: string; kind: 'deliver' | 'status-report' }];
  /** A +CMT/+CDS went unacknowledged (or was refused): it will be offered again after redeliverAfterMs. */
  undelivered: [{ lineId: string; kind: 'deliver' | 'status-report' }];
}> implements ModemNetworkPort {
  readonly clock: TimerClock;
  readonly faults: NetworkFaults = { dropParts: 0, duplicateParts: 0, reorderNext: false, rejectSubmits: { count: 0, code: 500 }, reportStatus: 0, holdReports: false };
  /** How long before a +CMT/+CDS the modem did not acknowledge is offered again (tests shorten it). */
  redeliverAfterMs: number;
  #o: Required<Omit<VirtualNetworkOptions, 'clock' | 'seed' | 'redeliverAfterMs' | 'inbox'>>;
  #closed = false;
  #modems = new Map<string, VirtualModem>();
  #pending = new Map<VirtualModem, { kind: 'deliver' | 'status-report'; pdu: string }[]>();
  /** The subscriber phones' inboxes, texts and (through the virtual MMSC) MMS. */
  readonly subscriberInbox: SubscriberInbox;
  #partials = new Map<string, PartialSet>();
  #mr = new Map<VirtualModem, number>();
  #heldReports: { modem: VirtualModem; pdu: string }[] = [];
  #ref = 0;
  #rng: () => number;
  /**
   * Sends what a modem's own MMS client composed (set by the virtual MMSC, which holds the
   * MMS codec); without one, the modem's sends fail as with no data service.
   */
  modemMmsClient: ((modem: VirtualModem, request: ModemMmsRequest) => Promise<ModemMmsResult>) | undefined;

  constructor(options: VirtualNetworkOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.#o = {
      submitLatency: options.submitLatency ?? { minMs: 1000, maxMs: 3000 },
      deliverLatency: options.deliverLatency ?? { minMs: 1000, maxMs: 3000 },
      reportLatency: options.reportLatency ?? { minMs: 1000, maxMs: 3000 },
    };
    this.redeliverAfterMs = options.redeliverAfterMs ?? 30_000;
    this.subscriberInbox = options.inbox ?? new MemorySubscriberInbox();
    let state = (options.seed ?? 0x5eed) >>> 0;
    this.#rng = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  /** Adds a virtual modem and plugs it in (opens its PTY). */
  addLine(options: VirtualLineOptions): VirtualModem {
    if (this.#modems.has(options.lineId)) throw new Error(`virtual line ${options.lineId} exists`);
    const n = this.#modems.size + 1;
    const modem = new VirtualModem({
      lineId: options.lineId,
      dialect: options.dialect ?? 'quectel',
      number: options.number,
      imei: `86${String(1000000000000 + n * 7919).padStart(13, '0')}`,
      iccid: `8901260${String(100000000000 + n * 104729).padStart(12, '0')}`,
      imsi: `31026${String(1000000000 + n).padStart(10, '0')}`,
      pin: options.pin,
      simBusyCount: options.simBusyCount,
      deliveryMode: options.deliveryMode,
      storageSlots: options.storageSlots,
      clock: this.clock,
      network: this,
    });
    this.#modems.set(options.lineId, modem);
    modem.plug();
    return modem;
  }

  line(lineId: string): VirtualModem {
    const modem = this.#modems.get(lineId);
    if (!modem) throw new Error(`no virtual line ${lineId}`);
    return modem;
  }

  lines(): VirtualModem[] {
    return [...this.#modems.values()];
  }

  /** Plugged modems as SerialPort.list() would show them (USB ids from their profile). */
  listPorts(): VirtualPortInfo[] {
    const profiles = loadProfiles();
    return this.lines().flatMap((modem) => {
      if (!modem.plugged || !modem.path) return [];
      const usb = profiles.find((p) => p.dialect === modem.dialect)?.usb[0];
      return [{ path: modem.path, lineId: modem.lineId, vendorId: usb?.vendorId ?? '0000', productId: usb?.productId ?? '0000', manufacturer: modem.spec.manufacturer }];
    });
  }

  unplug(lineId: string): void {
    this.line(lineId).unplug();
  }

  /** Plugs a modem back in; it gets a fresh PTY, usually at another path. */
  replug(lineId: string): string {
    return this.line(lineId).plug();
  }

  /** A subscriber phone texts a number on the network (normally a virtual line). */
  text(from: string, to: string, body: string): void {
    const target = this.lines().find((m) => m.number === to);
    this.#ref = (this.#ref + 1) & 0xff;
    const parts = encodeDeliver({ originator: from, text: body, timestamp: new Date(this.clock.now()), reference: this.#ref });
    if (target) this.#carry(target, parts);
    else this.#toSubscriber(from, to, parts.map((p) => ({ text: textOf(p, 'incoming'), concat: concatOf(p, 'incoming') })));
  }

  /**
   * Carries 8-bit port-addressed data (a WAP push from the virtual MMSC) to the line with
   * `to` as its number, concatenated over as many SMS as it needs; false when no line has it.
   */
  pushData(from: string, to: string, data: Uint8Array, ports: Ports): boolean {
    const target = this.lines().find((m) => m.number === to);
    if (!target) return false;
    this.#ref = (this.#ref + 1) & 0xff;
    this.#carry(target, encodeDeliver({ originator: from, data, ports, timestamp: new Date(this.clock.now()), reference: this.#ref, maxParts: 255 }));
    return true;
  }

  /**
   * Carries SMS-DELIVER PDUs exactly as given (hex, SMSC field first; malformed ones too) to
   * the line with `to` as its number, with the network's faults and latency; false when no
   * line has it. What a real network can deliver that `text` never composes.
   */
  deliverPdus(to: string, pdus: readonly string[]): boolean {
    const target = this.lines().find((m) => m.number === to);
    if (!target) return false;
    this.#carry(target, [...pdus]);
    return true;
  }

  /** What a subscriber phone has received, oldest first. */
  inbox(phone: string): SubscriberMessage[] {
    return this.subscriberInbox.texts(phone);
  }

  close(): void {
    this.#closed = true;
    for (const modem of this.#modems.values()) modem.unplug();
  }

  /** Runs `fn` after `ms` on the network's clock, unless the network has closed by then (its store may be gone). */
  #later(fn: () => void, ms: number): void {
    this.clock.setTimeout(() => {
      if (!this.#closed) fn();
    }, ms);
  }

  // ModemNetworkPort

  async sendMms(modem: VirtualModem, request: ModemMmsRequest): Promise<ModemMmsResult> {
    if (!modem.registered) return { ok: false, httpStatus: 0 };
    return this.modemMmsClient ? this.modemMmsClient(modem, request) : { ok: false, httpStatus: 0 };
  }

  async submit(modem: VirtualModem, pduHex: string): Promise<number> {
    await this.#wait(this.#o.submitLatency);
    if (this.faults.rejectSubmits.count > 0) {
      this.faults.rejectSubmits.count--;
      throw this.faults.rejectSubmits.code;
    }
    let decoded;
    try {
      decoded = decodePdu(pduHex, { hasSmsc: true, direction: 'outgoing' });
    } catch {
      throw 304;
    }
    if (decoded.type !== 'submit') throw 304;
    const mr = ((this.#mr.get(modem) ?? -1) + 1) & 0xff;
    this.#mr.set(modem, mr);
    const to = decoded.recipient.number;
    const submittedAt = new Date(this.clock.now());
    this.emit('submit', { lineId: modem.lineId, to, mr });
    this.#later(() => this.#route(modem.number, to, decoded.text ?? '', decoded.concat), this.#latency(this.#o.deliverLatency));
    if (decoded.statusReportRequested) {
      this.#later(() => {
        const report = encodeStatusReport({ messageRef: mr, recipient: to, scts: submittedAt, discharge: new Date(this.clock.now()), status: this.faults.reportStatus });
        if (this.faults.holdReports) this.#heldReports.push({ modem, pdu: report });
        else this.#offer(modem, 'status-report', report);
      }, this.#latency(this.#o.reportLatency));
    }
    return mr;
  }

  /** Sends the held status reports, newest first (as out of order as reports can come); returns how many. */
  /** Status reports held back so far. */
  get heldReportCount(): number {
    return this.#heldReports.length;
  }

  releaseHeldReports(): number {
    const held = this.#heldReports.splice(0).reverse();
    for (const { modem, pdu } of held) this.#offer(modem, 'status-report', pdu);
    return held.length;
  }

  undelivered(modem: VirtualModem, kind: 'deliver' | 'status-report', pdu: string): void {
    this.emit('undelivered', { lineId: modem.lineId, kind });
    this.#later(() => this.#offer(modem, kind, pdu), this.redeliverAfterMs);
  }

  /** The line loses (false) or regains (true) its registration; the modem reports it in the URCs the TE enabled. */
  setRegistered(lineId: string, registered: boolean): void {
    this.line(lineId).setRegistered(registered);
  }

  ready(modem: VirtualModem): void {
    const queue = this.#pending.get(modem);
    if (!queue || queue.length === 0) return;
    this.#pending.delete(modem);
    for (const item of queue) this.#offer(modem, item.kind, item.pdu);
  }

  #route(from: string, to: string, text: string, concat: { ref: number; part: number; total: number } | null): void {
    const target = this.lines().find((m) => m.number === to);
    if (!target) {
      this.#toSubscriber(from, to, [{ text, concat }]);
      return;
    }
    // Modem to modem: reassemble the SUBMIT set, then deliver it as DELIVER parts.
    if (!concat || concat.total <= 1) {
      this.#carry(target, encodeDeliver({ originator: from, text, timestamp: new Date(this.clock.now()) }));
      return;
    }
    const body = this.#collect(from, to, text, concat);
    if (body !== undefined) this.#carry(target, encodeDeliver({ originator: from, text: body, timestamp: new Date(this.clock.now()), reference: concat.ref }));
  }

  /** Applies part faults, then delivers each part after its own latency. */
  #carry(target: VirtualModem, parts: string[]): void {
    let out = [...parts];
    if (this.faults.reorderNext && out.length > 1) {
      this.faults.reorderNext = false;
      out.reverse();
    }
    out = out.flatMap((part) => {
      if (this.faults.dropParts > 0) {
        this.faults.dropParts--;
        return [];
      }
      if (this.faults.duplicateParts > 0) {
        this.faults.duplicateParts--;
        return [part, part];
      }
      return [part];
    });
    let at = 0;
    for (const part of out) {
      at += this.#latency(this.#o.deliverLatency);
      this.#later(() => this.#offer(target, 'deliver', part), at);
    }
  }

  #offer(modem: VirtualModem, kind: 'deliver' | 'status-report', pdu: string): void {
    const accepted = kind === 'deliver' ? modem.receiveDeliver(pdu) : modem.receiveStatusReport(pdu);
    if (accepted) {
      this.emit('delivered', { lineId: modem.lineId, kind });
      return;
    }
    const queue = this.#pending.get(modem) ?? [];
    queue.push({ kind, pdu });
    this.#pending.set(modem, queue);
  }

  #toSubscriber(from: string, to: string, parts: { text: string; concat: { ref: number; part: number; total: number } | null }[]): void {
    for (const { text, concat } of parts) {
      if (!concat || concat.total <= 1) {
        this.subscriberInbox.addText({ from, to, body: text, parts: 1, complete: true, receivedAt: new Date(this.clock.now()).toISOString() });
        continue;
      }
      const body = this.#collect(from, to, text, concat);
      if (body !== undefined) this.subscriberInbox.addText({ from, to, body, parts: concat.total, complete: true, receivedAt: new Date(this.clock.now()).toISOString() });
    }
    this.emit('inbox', to);
  }

  /** Adds one part of a concatenated set; returns the whole text once every part is in. */
  #collect(from: string, to: string, text: string, concat: { ref: number; part: number; total: number }): string | undefined {
    const key = `${from}>${to}#${concat.ref}/${concat.total}`;
    const set = this.#partials.get(key) ?? { from, to, parts: new Map<number, string>(), total: concat.total, firstAt: this.clock.now() };
    set.parts.set(concat.part, text);
    this.#partials.set(key, set);
    if (set.parts.size < set.total) return undefined;
    this.#partials.delete(key);
    return [...set.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).join('');
  }

  #latency(range: LatencyRange): number {
    return range.minMs + (range.maxMs - range.minMs) * this.#rng();
  }

  #wait(range: LatencyRange): Promise<void> {
    const ms = this.#latency(range);
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}

function textOf(pdu: string, direction: 'incoming' | 'outgoing'): string {
  const decoded = decodePdu(pdu, { hasSmsc: true, direction });
  return decoded.type === 'status-report' ? '' : (decoded.text ?? '');
}

function concatOf(pdu: string, direction: 'incoming' | 'outgoing'): { ref: number; part: number; total: number } | null {
  const decoded = decodePdu(pdu, { hasSmsc: true, direction });
  return decoded.type === 'status-report' ? null : decoded.concat;
}

export function createVirtualNetwork(options: VirtualNetworkOptions = {}): VirtualNetwork {
  return new VirtualNetwork(options);
}
