/**
 * The MMS client built into Quectel (AT+QMMS*, files in UFS via AT+QFUPL) and SIMCom
 * (AT+CMMS*) modems, as a virtual modem runs it: an edit buffer of recipients, title and
 * files, uploaded in data mode after CONNECT; the send itself is the network's job (the
 * virtual MMSC composes the m-send-req and posts it to the configured MMSC URL).
 */
import type { Dialect } from '../profiles.ts';

/** What the modem's client hands the network when told to send. */
export interface ModemMmsRequest {
  /** The MMSC URL set with AT+QMMSCFG="mmsc" / AT+CMMSCURL. */
  mmsc: string;
  to: string[];
  subject: string | null;
  /** Attachments by file name (the extension tells the type), in the order attached. */
  files: { name: string; data: Uint8Array }[];
}

/** The MMSC's answer: the HTTP status and whether the m-send-conf said OK. */
export interface ModemMmsResult {
  ok: boolean;
  httpStatus: number;
}

/** What the MMS commands may do on their modem. */
export interface MmsCommandHost {
  dialect: Dialect;
  /** Answers CONNECT and reads `size` raw bytes; `done` gets them (the final result is its job). */
  startUpload(size: number, done: (data: Uint8Array) => void): void;
  reply(lines: string[], final?: string): void;
  urc(text: string): void;
  send(request: ModemMmsRequest): Promise<ModemMmsResult>;
}

export type MmsOutcome = { lines: string[] } | { cme: number } | { deferred: true } | undefined;

const MAX_FILE = 2 * 1024 * 1024;

/** The client's state on one modem; `run` takes one command, undefined when it is not an MMS one. */
export class VirtualMmsClient {
  #mmsc = '';
  #to: string[] = [];
  #subject: string | null = null;
  #attached: string[] = [];
  #files = new Map<string, Uint8Array>();
  /** SIMCom: AT+CMMSINIT done, and edit mode on. */
  #initialised = false;
  #editing = false;
  #sending = false;

  constructor(private readonly host: MmsCommandHost) {}

  /** Power cycle: the edit buffer is gone; files in UFS stay (flash). */
  reset(): void {
    this.#clearEdit();
    this.#initialised = false;
    this.#editing = false;
  }

  run(name: string, args: string[], query: boolean): MmsOutcome {
    if (this.host.dialect === 'quectel') return this.#quectel(name, args, query);
    if (this.host.dialect === 'simcom') return this.#simcom(name, args);
    return undefined;
  }

  #quectel(name: string, args: string[], query: boolean): MmsOutcome {
    switch (name) {
      case '+QICSGP':
        return { lines: [] };
      case '+QMMSCFG':
        if (query) return { lines: [`+QMMSCFG: "mmsc","${this.#mmsc}"`] };
        if ((args[0] ?? '').toLowerCase() === 'mmsc') this.#mmsc = args[1] ?? '';
        return { lines: [] };
      case '+QMMSEDIT': {
        const fn = Number(args[0]);
        if (fn === 0) {
          this.#clearEdit();
          return { lines: [] };
        }
        const value = args[2] ?? '';
        if (fn === 1 || fn === 2 || fn === 3) this.#to.push(value);
        else if (fn === 4) this.#subject = value;
        else if (fn === 5) {
          const file = value.replace(/^UFS:/i, '');
          if (!this.#files.has(file)) return { cme: 417 }; // file not found
          this.#attached.push(file);
        } else return { cme: 4 };
        return { lines: [] };
      }
      case '+QFDEL':
        if (!this.#files.delete(args[0] ?? '')) return { cme: 417 };
        return { lines: [] };
      case '+QFUPL': {
        const file = args[0] ?? '';
        const size = Number(args[1]);
        if (file === '' || !Number.isInteger(size) || size < 1 || size > MAX_FILE) return { cme: 4 };
        if (this.#files.has(file)) return { cme: 407 }; // file already exists
        this.host.startUpload(size, (data) => {
          this.#files.set(file, data);
          this.host.reply([`+QFUPL: ${size},${checksum(data).toString(16)}`]);
        });
        return { deferred: true };
      }
      case '+QMMSEND':
        return this.#send((r) => `+QMMSEND: ${r.ok ? 0 : 1},${r.httpStatus}`);
      default:
        return undefined;
    }
  }

  #simcom(name: string, args: string[]): MmsOutcome {
    if (name === '+CMMSINIT') {
      this.#initialised = true;
      return { lines: [] };
    }
    if (!name.startsWith('+CMMS')) return undefined;
    if (!this.#initialised) return { cme: 3 }; // operation not allowed before AT+CMMSINIT
    switch (name) {
      case '+CMMSTERM':
        this.reset();
        return { lines: [] };
      case '+CMMSCURL':
        this.#mmsc = args[0] ?? '';
        return { lines: [] };
      case '+CMMSCID': case '+CMMSPROTO': case '+CMMSSENDCFG':
        return { lines: [] };
      case '+CMMSEDIT':
        this.#editing = args[0] === '1';
        if (!this.#editing) this.#clearEdit();
        return { lines: [] };
      case '+CMMSDOWN': {
        const kind = (args[0] ?? '').toUpperCase();
        const size = Number(args[1]);
        if (!this.#editing || !['PIC', 'TEXT', 'FILE', 'TITLE'].includes(kind)) return { cme: 3 };
        if (!Number.isInteger(size) || size < 1 || size > MAX_FILE) return { cme: 4 };
        const file = args[3] ?? `${kind.toLowerCase()}${this.#attached.length + 1}`;
        this.host.startUpload(size, (data) => {
          if (kind === 'TITLE') this.#subject = new TextDecoder().decode(data);
          else {
            this.#files.set(file, data);
            this.#attached.push(file);
          }
          this.host.reply([]);
        });
        return { deferred: true };
      }
      case '+CMMSRECP': case '+CMMSCC': case '+CMMSBCC':
        if (!this.#editing) return { cme: 3 };
        this.#to.push(args[0] ?? '');
        return { lines: [] };
      case '+CMMSSEND':
        return this.#send((r) => `+CMMSSEND: ${r.ok ? 0 : r.httpStatus || 1}`);
      default:
        return undefined;
    }
  }

  /** OK at once; the outcome comes as a URC when the MMSC has answered. */
  #send(urcFor: (result: ModemMmsResult) => string): MmsOutcome {
    if (this.#sending || this.#to.length === 0 || this.#mmsc === '') return { cme: 3 };
    this.#sending = true;
    const request: ModemMmsRequest = {
      mmsc: this.#mmsc,
      to: [...this.#to],
      subject: this.#subject,
      files: this.#attached.map((name) => ({ name, data: this.#files.get(name) ?? new Uint8Array() })),
    };
    // The answer comes later as a URC, as a modem's does; a failed send is one too (never thrown).
    void this.host
      .send(request)
      .catch((): ModemMmsResult => ({ ok: false, httpStatus: 0 }))
      .then((result) => {
        this.#sending = false;
        this.host.urc(urcFor(result));
      });
    return { lines: [] };
  }

  #clearEdit(): void {
    this.#to = [];
    this.#subject = null;
    this.#attached = [];
    if (this.host.dialect === 'simcom') this.#files.clear(); // SIMCom keeps downloads in the edit buffer only
  }
}

/** Quectel's upload checksum: XOR of the data as big-endian 16-bit words. */
function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum ^= ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  return sum;
}
