import { EventEmitter } from 'node:events';
import type { TimerClock, Timer } from '../../clock/index.ts';
import { CME_ERRORS, CMS_ERRORS } from '../error-codes.ts';
import type { Dialect } from '../profiles.ts';
import { runCommandLine, type CommandContext } from './commands.ts';
import { DIALECTS, type DialectSpec } from './dialects.ts';
import { VirtualMmsClient, type ModemMmsRequest, type ModemMmsResult } from './mms-client.ts';
import { Pty } from './pty.ts';
import { SmsStore } from './sms-store.ts';

/** What a virtual modem asks of the network it is attached to. */
export interface ModemNetworkPort {
  /** Takes a SUBMIT (hex incl. SMSC); resolves to the TP-MR or rejects with a CMS code. */
  submit(modem: VirtualModem, pduHex: string): Promise<number>;
  /** The modem has room again (or came back): undelivered PDUs may be retried. */
  ready(modem: VirtualModem): void;
  /** A +CMT/+CDS the TE did not acknowledge (or refused with AT+CNMA=2): the network sends it again later. */
  undelivered(modem: VirtualModem, kind: 'deliver' | 'status-report', pdu: string): void;
  /** The modem's own MMS client sends (AT+QMMSEND / AT+CMMSSEND). */
  sendMms(modem: VirtualModem, request: ModemMmsRequest): Promise<ModemMmsResult>;
}

export interface VirtualModemOptions {
  lineId: string;
  dialect: Dialect;
  number: string;
  imei: string;
  iccid: string;
  imsi: string;
  pin?: string;
  clock: TimerClock;
  network: ModemNetworkPort;
  storageSlots?: number;
  /** Answer AT+CPIN? with +CME ERROR: 14 this many times after power-up. */
  simBusyCount?: number;
  /** How the gateway should take this line's messages (carried to the pool; the modem follows AT+CNMI). */
  deliveryMode?: 'storage' | 'direct';
}

/** A +CMT/+CDS waiting for its AT+CNMA. */
interface AwaitingAck {
  kind: 'deliver' | 'status-report';
  pdu: string;
  timer: Timer;
}

/** Faults a test (or a curious operator) can switch on. */
export interface ModemFaults {
  /** Ignore every command (an unresponsive modem). */
  silent?: boolean;
  /** Show "> " for the next AT+CMGS, then ignore everything until ESC. */
  hangAtPrompt?: boolean;
  /** Answer the next AT+CMGS with this +CMS ERROR code. */
  cmsErrorOnSend?: number;
  /** Emit noise lines between responses. */
  garbage?: boolean;
  /** Answer these exact command lines (e.g. "AT+CGMI") with ERROR, as models lacking them do. */
  refuse?: string[];
  /**
   * Hold back the next final result (with its lines) until releaseAnswer(): a modem that answers
   * after the driver's deadline. Command lines that come meanwhile wait behind it, as a busy
   * modem's input buffer keeps them, so the held answer comes after the next command was written.
   */
  holdAnswer?: boolean;
  /** Write the next final result (with its lines) twice in one burst. */
  answerTwice?: boolean;
}

interface UploadState {
  chunks: Buffer[];
  left: number;
  done: (data: Uint8Array) => void;
  timer: Timer;
}

interface PromptState {
  length: number;
  buffer: string;
  hung: boolean;
}

/**
 * A modem that speaks one vendor's AT dialect on a real PTY: SIM, PIN, storages, CNMI,
 * PDU mode send and receive, status reports, health queries and injectable faults.
 */
export class VirtualModem extends EventEmitter<{ command: [string]; plugged: [string]; unplugged: []; ignoredPdu: [] }> {
  readonly lineId: string;
  readonly number: string;
  readonly imei: string;
  readonly iccid: string;
  readonly imsi: string;
  readonly dialect: Dialect;
  readonly spec: DialectSpec;
  readonly faults: ModemFaults = {};
  registered = true;
  rssi = 23;
  /** How long a +CMT/+CDS waits for AT+CNMA before the modem gives up (RP-ERROR to the network). */
  ackTimeoutMs = 20_000;
  readonly deliveryMode: 'storage' | 'direct' | undefined;
  #o: VirtualModemOptions;
  #pty: Pty | undefined;
  #input = '';
  #prompt: PromptState | undefined;
  #upload: UploadState | undefined;
  #mms: VirtualMmsClient;
  #echo = true;
  #cmee = 0;
  #cmgf = 0;
  #csms = 0;
  #cnmi = [0, 0, 0, 0, 0];
  /** +CREG/+CGREG/+CEREG URC modes: 0 off, 1 <stat>, 2 <stat>,<lac>,<ci>,<act>. */
  #creg = 0;
  #cgreg = 0;
  #cereg = 0;
  #pinLocked: boolean;
  #simBusyLeft: number;
  #radioOn = true;
  #store: SmsStore;
  #mem: [string, string, string];
  #awaitingAck: AwaitingAck | undefined;
  #timers = new Set<Timer>();
  /** A held answer and the command lines received since (see ModemFaults.holdAnswer). */
  #held: { answer: string; waiting: string[] } | undefined;

  constructor(options: VirtualModemOptions) {
    super();
    this.#o = options;
    this.lineId = options.lineId;
    this.number = options.number;
    this.imei = options.imei;
    this.iccid = options.iccid;
    this.imsi = options.imsi;
    this.dialect = options.dialect;
    this.deliveryMode = options.deliveryMode;
    this.spec = DIALECTS[options.dialect];
    this.#pinLocked = options.pin !== undefined;
    this.#simBusyLeft = options.simBusyCount ?? 0;
    this.#store = new SmsStore(this.spec.storages, options.storageSlots ?? 30);
    const first = this.spec.storages[0] ?? 'SM';
    this.#mem = [first, first, first];
    this.#mms = new VirtualMmsClient({
      dialect: options.dialect,
      startUpload: (size, done) => this.#startUpload(size, done),
      reply: (lines, final = 'OK') => this.#final(final, lines),
      urc: (text) => this.#urc(text),
      send: (request) => this.#o.network.sendMms(this, request),
    });
  }

  get path(): string | undefined {
    return this.#pty?.path;
  }

  get plugged(): boolean {
    return this.#pty !== undefined && !this.#pty.closed;
  }

  get store(): SmsStore {
    return this.#store;
  }

  /** Opens a new PTY (a new device path) and powers up. */
  plug(): string {
    if (this.#pty && !this.#pty.closed) return this.#pty.path;
    const pty = new Pty();
    this.#pty = pty;
    this.#input = '';
    this.#prompt = undefined;
    this.#upload = undefined;
    this.#held = undefined;
    pty.on('data', (chunk) => this.#onData(chunk.toString('latin1')));
    pty.on('close', () => {
      if (this.#pty === pty) this.emit('unplugged');
    });
    this.#powerUp();
    this.emit('plugged', pty.path);
    return pty.path;
  }

  /** Closes the PTY: the device node disappears, as on a USB unplug. */
  unplug(): void {
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#dropAwaitingAck();
    this.#pty?.close();
  }

  /** Network side: a DELIVER PDU arrives. False when there is no room (the network retries). */
  receiveDeliver(pdu: string): boolean {
    if (!this.plugged || !this.registered || !this.#radioOn) return false;
    const mt = this.#cnmi[1] ?? 0;
    if (mt === 2 || mt === 3) {
      // One transfer at a time: the next waits until this one is acknowledged or given up.
      if (this.#awaitingAck) return false;
      this.#handOver('deliver', pdu, `+CMT: ,${tpduLength(pdu)}`);
      return true;
    }
    const mem = this.#mem[2];
    const index = this.#store.add(mem, { stat: 0, pdu });
    if (index === undefined) {
      this.#urc(this.spec.storageFullUrc);
      return false;
    }
    if (mt === 1) this.#urc(`+CMTI: "${mem}",${index}`);
    return true;
  }

  /** Network side: a STATUS-REPORT PDU arrives. */
  receiveStatusReport(pdu: string): boolean {
    if (!this.plugged || !this.#radioOn) return false;
    const ds = this.#cnmi[3] ?? 0;
    if (ds === 1) {
      if (this.#awaitingAck) return false;
      this.#handOver('status-report', pdu, `+CDS: ${tpduLength(pdu)}`);
      return true;
    }
    if (ds !== 2) return true; // not routed: dropped, as the modem would
    const index = this.#store.add(this.spec.reportStorage, { stat: 0, pdu });
    if (index === undefined) {
      this.#urc(this.spec.storageFullUrc);
      return false;
    }
    this.#urc(`+CDSI: "${this.spec.reportAnnouncedAs}",${index}`);
    return true;
  }

  /** Network side: registration lost (stat 0, or another 27.007 stat) or regained; URCs as enabled. */
  setRegistered(registered: boolean, stat: number = registered ? 1 : 0): void {
    this.registered = registered;
    for (const [name, mode] of [['+CREG', this.#creg], ['+CGREG', this.#cgreg], ['+CEREG', this.#cereg]] as const) {
      if (mode === 1) this.#urc(`${name}: ${stat}`);
      else if (mode === 2) this.#urc(`${name}: ${stat}${registered ? ',"00C3","0000B1A2",7' : ''}`);
    }
    if (registered) this.#o.network.ready(this);
  }

  /**
   * +CMT/+CDS to the TE. Under CSMS 1 it waits for AT+CNMA: without one in time the modem
   * answers the network with an error (which delivers again later) and, as 27.005 requires,
   * turns routing to the TE off (<mt> and <ds> of AT+CNMI to 0).
   */
  #handOver(kind: 'deliver' | 'status-report', pdu: string, header: string): void {
    if (this.#csms === 1) {
      const timer = this.#o.clock.setTimeout(() => {
        this.#timers.delete(timer);
        if (this.#awaitingAck?.timer !== timer) return;
        this.#awaitingAck = undefined;
        this.#cnmi = this.#cnmi.map((v, i) => (i === 1 || i === 3 ? 0 : v));
        this.#o.network.undelivered(this, kind, pdu);
        // What queued behind it comes now, into storage (routing is off).
        this.#o.network.ready(this);
      }, this.ackTimeoutMs);
      this.#timers.add(timer);
      this.#awaitingAck = { kind, pdu, timer };
    }
    this.#urc(`${header}\r\n${pdu}`);
  }

  /** Unplugged or rebooted with a transfer unacknowledged: the network still has it. */
  #dropAwaitingAck(): void {
    const awaiting = this.#awaitingAck;
    if (!awaiting) return;
    this.#awaitingAck = undefined;
    awaiting.timer.cancel();
    this.#o.network.undelivered(this, awaiting.kind, awaiting.pdu);
  }

  /** Writes the answer held back by faults.holdAnswer, then runs the commands that waited behind it. */
  releaseAnswer(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    this.#pty?.write(held.answer);
    for (const line of held.waiting) this.#onCommandLine(line, false);
  }

  /** Writes bytes that are no AT at all, as a modem with a noisy line or a confused firmware. */
  emitGarbage(): void {
    this.#pty?.write('\r\n\x00\xff#$%garbage\x07\r\n');
  }

  #powerUp(): void {
    this.#echo = true;
    this.#cmee = 0;
    this.#cnmi = [0, 0, 0, 0, 0];
    this.#csms = 0;
    this.#creg = 0;
    this.#cgreg = 0;
    this.#cereg = 0;
    this.#dropAwaitingAck();
    this.#radioOn = true;
    this.#pinLocked = this.#o.pin !== undefined;
    this.#mms.reset();
    for (const urc of this.spec.bootUrcs) this.#urc(urc);
    this.#o.network.ready(this);
  }

  #urc(text: string): void {
    this.#pty?.write(`\r\n${text}\r\n`);
  }

  #later(delayMs: number, fn: () => void): void {
    const timer = this.#o.clock.setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, delayMs);
    this.#timers.add(timer);
  }

  #onData(text: string): void {
    if (this.#upload) {
      const upload = this.#upload;
      const take = Math.min(upload.left, text.length);
      upload.chunks.push(Buffer.from(text.slice(0, take), 'latin1'));
      upload.left -= take;
      if (upload.left > 0) return;
      this.#upload = undefined;
      upload.timer.cancel();
      this.#timers.delete(upload.timer);
      upload.done(new Uint8Array(Buffer.concat(upload.chunks)));
      text = text.slice(take);
    }
    for (const ch of text) {
      if (this.#prompt) {
        this.#onPromptChar(ch);
        continue;
      }
      if (ch === '\r') {
        const line = this.#input.trim();
        this.#input = '';
        if (line.length > 0) this.#onCommandLine(line);
      } else if (ch === '\x1b' || ch === '\n') {
        if (ch === '\x1b') this.#input = '';
      } else {
        this.#input += ch;
      }
    }
  }

  #onPromptChar(ch: string): void {
    const prompt = this.#prompt!;
    if (ch === '\x1b') {
      this.#prompt = undefined;
      this.#final('OK');
      return;
    }
    if (prompt.hung) {
      // Tests learn from this that the driver saw the prompt and its send now waits in vain.
      if (ch === '\x1a') this.emit('ignoredPdu');
      return;
    }
    if (ch === '\x1a') {
      this.#prompt = undefined;
      void this.#submit(prompt.length, prompt.buffer.trim());
      return;
    }
    if (this.#echo) this.#pty?.write(ch);
    prompt.buffer += ch;
  }

  #onCommandLine(line: string, arriving = true): void {
    if (arriving) this.emit('command', line.toUpperCase().startsWith('AT+CPIN=') ? 'AT+CPIN=<redacted>' : line);
    if (this.faults.silent) return;
    if (this.#held) {
      this.#held.waiting.push(line);
      return;
    }
    this.#execute(line);
  }

  #execute(line: string): void {
    if (this.#echo) this.#pty?.write(`${line}\r`);
    if (this.faults.garbage) this.emitGarbage();
    if (!/^AT/i.test(line) || this.faults.refuse?.includes(line.toUpperCase())) {
      this.#final('ERROR');
      return;
    }
    // Basic commands may be chained (ATE0V1Q0); extended ones separated by ';'.
    runCommandLine(this.#ctx, line);
  }

  /** Internal surface the command interpreter works on. */
  #ctx: CommandContext = {
    modem: this,
    reply: (lines: string[], final = 'OK') => this.#final(final, lines),
    cme: (code: number) => this.#final(this.#cmeeError('CME', code)),
    cms: (code: number) => this.#final(this.#cmeeError('CMS', code)),
    state: () => ({
      pin: this.#o.pin,
      echo: this.#echo, cmee: this.#cmee, cmgf: this.#cmgf, csms: this.#csms, cnmi: this.#cnmi, creg: this.#creg, cgreg: this.#cgreg, cereg: this.#cereg,
      pinLocked: this.#pinLocked, radioOn: this.#radioOn, mem: this.#mem,
    }),
    set: (patch: Partial<{ echo: boolean; cmee: number; cmgf: number; csms: number; cnmi: number[]; creg: number; cgreg: number; cereg: number; radioOn: boolean; mem: [string, string, string] }>) => {
      if (patch.echo !== undefined) this.#echo = patch.echo;
      if (patch.cmee !== undefined) this.#cmee = patch.cmee;
      if (patch.cmgf !== undefined) this.#cmgf = patch.cmgf;
      if (patch.csms !== undefined) this.#csms = patch.csms;
      if (patch.cnmi !== undefined) this.#cnmi = patch.cnmi;
      if (patch.creg !== undefined) this.#creg = patch.creg;
      if (patch.cgreg !== undefined) this.#cgreg = patch.cgreg;
      if (patch.cereg !== undefined) this.#cereg = patch.cereg;
      if (patch.radioOn !== undefined) this.#radioOn = patch.radioOn;
      if (patch.mem !== undefined) this.#mem = patch.mem;
    },
    unlock: (pin: string): boolean => {
      if (pin !== this.#o.pin) return false;
      this.#pinLocked = false;
      return true;
    },
    simBusy: (): boolean => {
      if (this.#simBusyLeft <= 0) return false;
      this.#simBusyLeft--;
      return true;
    },
    startPrompt: (length: number) => {
      const hung = this.faults.hangAtPrompt === true;
      this.faults.hangAtPrompt = false;
      this.#prompt = { length, buffer: '', hung };
      this.#pty?.write('\r\n> ');
    },
    ack: (positive: boolean): boolean => {
      const awaiting = this.#awaitingAck;
      if (!awaiting) return false;
      this.#awaitingAck = undefined;
      awaiting.timer.cancel();
      this.#timers.delete(awaiting.timer);
      // RP-ERROR (AT+CNMA=2): the network keeps the message and tries again later.
      if (!positive) this.#o.network.undelivered(this, awaiting.kind, awaiting.pdu);
      else this.#o.network.ready(this);
      return true;
    },
    reboot: (reenumerate: boolean) => {
      this.#later(10, () => {
        if (reenumerate) {
          this.unplug();
          this.#later(10, () => this.plug());
        } else this.#powerUp();
      });
    },
    freed: () => this.#o.network.ready(this),
    mms: () => this.#mms,
  };

  /** Data mode: CONNECT, then exactly `size` raw bytes (no echo, no command parsing) or a timeout. */
  #startUpload(size: number, done: (data: Uint8Array) => void): void {
    const timer = this.#o.clock.setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#upload?.timer !== timer) return;
      this.#upload = undefined;
      this.#final(this.#cmeeError('CME', 100)); // unknown error: the upload was cut short
    }, 60_000);
    this.#timers.add(timer);
    this.#upload = { chunks: [], left: size, done, timer };
    this.#pty?.write('\r\nCONNECT\r\n');
  }

  async #submit(length: number, hex: string): Promise<void> {
    const smscOctets = parseInt(hex.slice(0, 2), 16) + 1;
    if (!/^[0-9A-F]+$/i.test(hex) || hex.length % 2 !== 0 || hex.length / 2 - smscOctets !== length) {
      this.#final(this.#cmeeError('CMS', 304));
      return;
    }
    const cms = this.faults.cmsErrorOnSend;
    if (cms !== undefined) {
      this.faults.cmsErrorOnSend = undefined;
      this.#final(this.#cmeeError('CMS', cms));
      return;
    }
    if (!this.registered || !this.#radioOn) {
      this.#final(this.#cmeeError('CMS', 331));
      return;
    }
    try {
      const mr = await this.#o.network.submit(this, hex.toUpperCase());
      this.#final('OK', [`+CMGS: ${mr}`]);
    } catch (error) {
      const code = typeof error === 'number' ? error : 500;
      this.#final(this.#cmeeError('CMS', code));
    }
  }

  #cmeeError(kind: 'CME' | 'CMS', code: number): string {
    if (this.#cmee === 0) return 'ERROR';
    if (this.#cmee === 2) return `+${kind} ERROR: ${(kind === 'CME' ? CME_ERRORS : CMS_ERRORS)[code] ?? 'unknown'}`;
    return `+${kind} ERROR: ${code}`;
  }

  /** Information lines and the final result code in one write, as a modem sends them in one burst. */
  #final(text: string, lines: readonly string[] = []): void {
    let out = '';
    for (const l of lines) out += `\r\n${l}\r\n`;
    let answer = `${out}\r\n${text}\r\n`;
    if (this.faults.answerTwice) {
      this.faults.answerTwice = false;
      answer += answer;
    }
    if (this.faults.holdAnswer) {
      this.faults.holdAnswer = false;
      this.#held = { answer, waiting: [] };
      return;
    }
    this.#pty?.write(answer);
  }
}

function tpduLength(pdu: string): number {
  return pdu.length / 2 - (parseInt(pdu.slice(0, 2), 16) + 1);
}
