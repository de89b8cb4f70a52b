import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { NotFoundError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { openSerialTransport, type OpenTransport } from './at/transport.ts';
import { systemClock, type TimerClock } from '../clock/index.ts';
import { ModemDriver, type DriverOptions, type LineAtPort, type LineState, type SendHooks, type SubmitPdu, type TunableOption } from './driver.ts';
import { ModemError } from './errors.ts';
import type { DeliveryMode } from './driver-init.ts';
import type { InboundPdu } from './inbox.ts';
import type { LineEvent } from './line-events.ts';
import { getProfile, loadProfiles, profileForUsb, type HardwareProfile } from './profiles.ts';
import { SendQueue } from './send-queue.ts';
import type { VirtualNetwork } from './virtual/network.ts';

export interface ModemLineConfig {
  id: string;
  /** Device path, e.g. /dev/ttyUSB2 or a udev name like /dev/agentphone/line1. */
  path?: string;
  /** Find the port by USB id instead (and after a replug, at whatever path it gets). */
  usb?: { vendorId: string; productId: string; interface?: number };
  /** Profile id from hardware/profiles; when absent the driver detects it (profile-detect.ts) from the USB id, AT+CGMI/CGMM and ATI. */
  profile?: string;
  pin?: string;
  /** E.164 number of the SIM when AT+CNUM does not know it. */
  number?: string;
  messagesPerMinute?: number;
  /** storage (+CMTI) or direct (+CMT/+CDS acknowledged with AT+CNMA once stored); absent: the profile's. */
  deliveryMode?: DeliveryMode;
}

/** The lines, and driver settings for all of them (unset ones keep the driver's defaults). */
export interface ModemPoolConfig extends Partial<Pick<DriverOptions, TunableOption>> {
  lines: ModemLineConfig[];
  /** Also adopt every port whose USB id matches a profile (default: only when no lines are configured). */
  autodetect?: boolean;
  messagesPerMinute?: number;
}

export interface PortListing {
  path: string;
  vendorId?: string;
  productId?: string;
  pnpId?: string;
}

export interface ModemPoolDeps {
  logger: Logger;
  clock?: TimerClock;
  openTransport?: OpenTransport;
  listPorts?: () => Promise<PortListing[]>;
  profiles?: HardwareProfile[];
  /** Serve the lines of this virtual network (when the config names no lines). */
  network?: VirtualNetwork;
}

/** What the admin API and `agentphone modems list` show per line. */
export interface LineStatus {
  id: string;
  state: LineState;
  path: string | null;
  profile: string | null;
  manufacturer: string | null;
  model: string | null;
  imei: string | null;
  iccid: string | null;
  number: string | null;
  signal: { rssi: number; dbm: number } | null;
  registration: string;
  operator: string | null;
  queueDepth: number;
  lastError: string | null;
  /** How new messages reach the gateway (null until the modem is initialised). */
  delivery: DeliveryMode | null;
}

interface Line {
  config: ModemLineConfig;
  driver: ModemDriver;
  queue: SendQueue;
}

export interface ModemPoolEvents {
  pdu: [InboundPdu];
  state: [{ lineId: string; state: LineState; previous: LineState }];
}

/** All lines: one driver and one paced send queue per modem. */
export class ModemPool extends EventEmitter<ModemPoolEvents> {
  #config: ModemPoolConfig;
  #deps: ModemPoolDeps;
  #clock: TimerClock;
  #profiles: HardwareProfile[];
  #lines = new Map<string, Line>();
  #claims = new Map<string, string>();
  #log: Logger;

  constructor(config: ModemPoolConfig, deps: ModemPoolDeps) {
    super();
    this.#config = config;
    this.#deps = deps;
    this.#clock = deps.clock ?? deps.network?.clock ?? systemClock;
    this.#profiles = deps.profiles ?? loadProfiles();
    this.#log = deps.logger.child({ mod: 'modem' });
  }

  async start(): Promise<void> {
    const configs = [...this.#config.lines];
    const network = this.#deps.network;
    if (configs.length === 0 && network) {
      for (const modem of network.lines()) {
        const profile = this.#profiles.find((p) => p.dialect === modem.dialect);
        configs.push({ id: modem.lineId, path: modem.path, number: modem.number, profile: profile?.id, deliveryMode: modem.deliveryMode });
      }
    }
    if (this.#config.autodetect ?? configs.length === 0) configs.push(...(await this.#detect(configs)));
    for (const config of configs) this.#addLine(config);
    this.#log.info({ lines: configs.length }, 'modem pool started');
  }

  async stop(): Promise<void> {
    const stopping = new ModemError('modem pool stopped', { kind: 'unavailable' });
    await Promise.all([...this.#lines.values()].map(async (line) => {
      line.queue.clear(stopping);
      await line.driver.stop();
    }));
  }

  lines(): LineStatus[] {
    return [...this.#lines.values()].map((line) => this.#status(line));
  }

  line(lineId: string): LineStatus {
    return this.#status(this.#get(lineId));
  }

  /** The line that owns an E.164 number, if any. */
  lineForNumber(number: string): LineStatus | undefined {
    return this.lines().find((l) => l.number === number);
  }

  /** Queues a SUBMIT PDU on a line; resolves with the TP-MR once the modem accepted it. */
  send(lineId: string, pdu: SubmitPdu, hooks?: SendHooks): Promise<{ mr: number }> {
    return this.#get(lineId).queue.push(pdu, hooks);
  }

  /**
   * One line's AT port for the modem's own applications (its MMS client). The line is looked up
   * on each use, so the port can be handed out before the pool starts; an unknown line is NotFound.
   */
  atPort(lineId: string): LineAtPort {
    const port = () => this.#get(lineId).driver.atPort();
    return {
      dialect: () => (this.#lines.has(lineId) ? port().dialect() : undefined),
      command: (command, options) => port().command(command, options),
      waitFor: (prefix, timeoutMs) => port().waitFor(prefix, timeoutMs),
    };
  }

  /** One line's recent events (state, registration, errors, recoveries), oldest first. */
  events(lineId: string): LineEvent[] {
    return this.#get(lineId).driver.events();
  }

  /** The driver of one line (for health checks and draining from tests or the admin API). */
  driver(lineId: string): ModemDriver {
    return this.#get(lineId).driver;
  }

  #get(lineId: string): Line {
    const line = this.#lines.get(lineId);
    if (!line) throw new NotFoundError(`No modem line "${lineId}"`);
    return line;
  }

  #addLine(config: ModemLineConfig): void {
    const { lines: _lines, autodetect: _autodetect, messagesPerMinute, ...tunables } = this.#config;
    const driver = new ModemDriver({
      lineId: config.id,
      path: config.path,
      profile: config.profile ? getProfile(config.profile, this.#profiles) : undefined,
      profiles: this.#profiles,
      pin: config.pin,
      number: config.number,
      deliveryMode: config.deliveryMode,
      openTransport: this.#deps.openTransport ?? openSerialTransport,
      locate: () => this.#locate(config),
      usbIdOf: (path) => this.#usbIdOf(path),
      claim: (path) => this.#claim(path, config.id),
      release: (path) => {
        if (this.#claims.get(path) === config.id) this.#claims.delete(path);
      },
      clock: this.#clock,
      logger: this.#deps.logger,
      ...tunables,
    });
    const queue = new SendQueue((pdu, hooks) => driver.send(pdu, hooks), this.#clock, config.messagesPerMinute ?? messagesPerMinute ?? 30);
    driver.on('pdu', (pdu) => this.emit('pdu', pdu));
    driver.on('state', (state, previous) => this.emit('state', { lineId: config.id, state, previous }));
    this.#lines.set(config.id, { config, driver, queue });
    driver.start();
  }

  #claim(path: string, lineId: string): boolean {
    const owner = this.#claims.get(path);
    if (owner !== undefined && owner !== lineId) return false;
    this.#claims.set(path, lineId);
    return true;
  }

  async #ports(): Promise<PortListing[]> {
    if (this.#deps.listPorts) return this.#deps.listPorts();
    if (this.#deps.network) return this.#deps.network.listPorts();
    return SerialPort.list();
  }

  /** The USB ids SerialPort.list() shows for a path (none for a port it does not list). */
  async #usbIdOf(path: string): Promise<{ vendorId?: string; productId?: string } | undefined> {
    const port = (await this.#ports()).find((p) => p.path === path);
    return port && { ...(port.vendorId !== undefined && { vendorId: port.vendorId }), ...(port.productId !== undefined && { productId: port.productId }) };
  }

  /** Unclaimed ports that could be this line's modem after a replug, by USB id. */
  async #locate(config: ModemLineConfig): Promise<string[]> {
    // A virtual line's modem is known by its line id. By USB id, two lines of one dialect whose
    // first init timed out together (a loaded machine) each took the other's modem, and sent
    // from the other's number.
    const network = this.#deps.network;
    if (network?.lines().some((m) => m.lineId === config.id)) {
      return network.listPorts().filter((p) => p.lineId === config.id && !this.#claims.has(p.path)).map((p) => p.path);
    }
    const ports = await this.#ports().catch(() => []);
    const profile = config.profile ? getProfile(config.profile, this.#profiles) : undefined;
    return ports
      .filter((port) => !this.#claims.has(port.path))
      .filter((port) => {
        const vid = port.vendorId?.toLowerCase();
        const pid = port.productId?.toLowerCase();
        if (config.usb) return vid === config.usb.vendorId.toLowerCase() && pid === config.usb.productId.toLowerCase() && interfaceMatches(port, config.usb.interface);
        if (profile) return profile.usb.some((u) => u.vendorId === vid && u.productId === pid && interfaceMatches(port, u.atInterface));
        return profileForUsb(vid, pid, this.#profiles) !== undefined;
      })
      .map((port) => port.path);
  }

  async #detect(existing: ModemLineConfig[]): Promise<ModemLineConfig[]> {
    const taken = new Set(existing.map((c) => c.path));
    const ports = await this.#ports().catch((error: unknown) => {
      this.#log.warn({ err: String(error) }, 'could not list serial ports');
      return [];
    });
    const found: ModemLineConfig[] = [];
    for (const port of ports) {
      const match = profileForUsb(port.vendorId, port.productId, this.#profiles);
      if (!match || taken.has(port.path) || !interfaceMatches(port, match.usb.atInterface)) continue;
      found.push({ id: `auto-${port.path.split('/').pop()}`, path: port.path, profile: match.profile.id });
    }
    return found;
  }

  #status(line: Line): LineStatus {
    const s = line.driver.status();
    return {
      id: line.config.id,
      state: s.state,
      path: s.path ?? null,
      profile: s.profile ?? null,
      manufacturer: s.identity.manufacturer ?? null,
      model: s.identity.model ?? null,
      imei: s.identity.imei ?? null,
      iccid: s.identity.iccid ?? null,
      number: s.identity.number ?? line.config.number ?? null,
      signal: s.rssi === undefined || s.signalDbm === undefined ? null : { rssi: s.rssi, dbm: s.signalDbm },
      registration: s.registration,
      operator: s.operator ?? null,
      queueDepth: line.queue.depth,
      lastError: s.lastError ?? null,
      delivery: s.delivery ?? null,
    };
  }
}

/** Linux pnpIds end in `-if02-port0`; ports without one (virtual, non-USB) match any interface. */
function interfaceMatches(port: PortListing, wanted: number | undefined): boolean {
  if (wanted === undefined) return true;
  const match = /-if(\d+)/.exec(port.pnpId ?? '');
  return !match || Number(match[1]) === wanted;
}

export function createModemPool(config: ModemPoolConfig, deps: ModemPoolDeps): ModemPool {
  return new ModemPool(config, deps);
}
