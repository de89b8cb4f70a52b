import { EventEmitter } from 'node:events';
import { ReadlineParser } from '@serialport/parser-readline';
import type { Logger } from '../../logging/index.ts';
import type { TimerClock, Timer } from '../../clock/index.ts';
import { ModemError } from '../errors.ts';
import type { ModemTransport } from './transport.ts';
import { TWO_LINE_URCS, looksUnsolicited, parseUrc, type Urc } from './urc.ts';

export interface CommandOptions {
  /** Deadline for the final result code, counted from the write; URCs never extend it. */
  timeoutMs?: number;
  /** Text sent after the `> ` prompt (a PDU in hex); Ctrl-Z is appended. */
  payload?: string;
  /** Deadline for the `> ` prompt itself. */
  promptTimeoutMs?: number;
  /** Lines starting with this belong to the response; derived from the command when absent. */
  responsePrefix?: string;
  /** A final OK before a line with the response prefix is a stray from an earlier exchange. */
  requireResponse?: boolean;
  /** Logged instead of the command text (for AT+CPIN=<pin>). */
  redactedAs?: string;
  /** Bytes written raw once the modem answers CONNECT (file uploads: AT+QFUPL, AT+CMMSDOWN). */
  upload?: Uint8Array;
  /**
   * Runs before every waiting command without it (after the one in flight and earlier priority
   * ones): reading what the modem announced must not wait behind a queue of sends.
   */
  priority?: boolean;
}

export interface AtResponse {
  /** Intermediate lines, in order, echo and URCs removed. */
  lines: string[];
  final: string;
}

interface Pending {
  command: string;
  label: string;
  options: CommandOptions;
  prefix: string | undefined;
  lines: string[];
  resolve: (response: AtResponse) => void;
  reject: (error: ModemError) => void;
  timer?: Timer;
  awaitingPrompt: boolean;
  sawResponse: boolean;
  /** The upload went out after CONNECT. */
  uploaded: boolean;
}

export interface AtChannelOptions {
  clock: TimerClock;
  logger: Logger;
  defaultTimeoutMs?: number;
}

const FINAL_OK = /^OK$/i;
const FINAL_ERROR = /^(ERROR|\+CM[ES] ERROR:.*|COMMAND NOT SUPPORT|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|ABORTED)$/i;
const CONNECT = /^CONNECT(\s+\d+)?$/i;
const CTRL_Z = '\x1a';
const ESC = '\x1b';
const LEADING_ESC = new RegExp(`^${ESC}+`);

export interface AtChannelEvents {
  urc: [Urc];
  garbage: [string];
  close: [Error | undefined];
}

/**
 * One AT conversation with one modem: a FIFO of commands with one in flight, final result
 * codes as values or typed ModemErrors, URCs as events wherever they fall, and the SMS
 * prompt spotted on the raw byte stream (it has no line ending).
 */
export class AtChannel extends EventEmitter<AtChannelEvents> {
  readonly transport: ModemTransport;
  #clock: TimerClock;
  #log: Logger;
  #defaultTimeoutMs: number;
  #queue: Pending[] = [];
  #current: Pending | undefined;
  #parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
  #pendingUrc: string | undefined;
  #rawTail = '';
  #closed = false;

  constructor(transport: ModemTransport, options: AtChannelOptions) {
    super();
    this.transport = transport;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
    this.#parser.on('data', (line: string) => this.#onLine(line));
    transport.on('data', this.#onData);
    transport.on('close', this.#onClose);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get busy(): boolean {
    return this.#current !== undefined || this.#queue.length > 0;
  }

  /** Runs one command; resolves on OK, rejects with ModemError on an error code, timeout or close. */
  command(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    if (this.#closed) return Promise.reject(new ModemError('port closed', { kind: 'closed', command: labelOf(command, options) }));
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        command,
        label: labelOf(command, options),
        options,
        prefix: options.responsePrefix ?? derivePrefix(command),
        lines: [],
        resolve,
        reject,
        awaitingPrompt: options.payload !== undefined,
        sawResponse: false,
        uploaded: false,
      };
      const at = options.priority ? this.#queue.findIndex((p) => !p.options.priority) : -1;
      if (at < 0) this.#queue.push(pending);
      else this.#queue.splice(at, 0, pending);
      this.#next();
    });
  }

  /** Cancels a pending `> ` prompt (or a half-sent PDU) on the modem. */
  async escape(): Promise<void> {
    if (this.#closed) return;
    await this.transport.write(ESC).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.transport.close().catch(() => undefined);
    this.#onClose(undefined);
  }

  #next(): void {
    if (this.#current || this.#closed) return;
    const pending = this.#queue.shift();
    if (!pending) return;
    this.#current = pending;
    const timeoutMs = pending.awaitingPrompt
      ? (pending.options.promptTimeoutMs ?? 10_000)
      : (pending.options.timeoutMs ?? this.#defaultTimeoutMs);
    pending.timer = this.#clock.setTimeout(() => this.#onTimeout(pending), timeoutMs);
    this.#log.trace({ command: pending.label }, 'at command');
    this.transport.write(`${pending.command}\r`).catch((error: unknown) => {
      this.#finish(pending, new ModemError('write failed', { kind: 'closed', command: pending.label, cause: error }));
    });
  }

  #onData = (chunk: Buffer): void => {
    const text = chunk.toString('latin1');
    const current = this.#current;
    if (current?.awaitingPrompt) {
      this.#rawTail = (this.#rawTail + text).slice(-64);
      if (/(^|[\r\n])> ?$/.test(this.#rawTail) || /(^|[\r\n])> /.test(this.#rawTail)) this.#onPrompt(current);
    }
    this.#parser.write(chunk);
  };

  #onPrompt(pending: Pending): void {
    pending.awaitingPrompt = false;
    this.#rawTail = '';
    pending.timer?.cancel();
    pending.timer = this.#clock.setTimeout(() => this.#onTimeout(pending), pending.options.timeoutMs ?? 60_000);
    this.transport.write(`${pending.options.payload ?? ''}${CTRL_Z}`).catch((error: unknown) => {
      this.#finish(pending, new ModemError('write failed', { kind: 'closed', command: pending.label, cause: error }));
    });
  }

  #onLine(raw: string): void {
    const line = raw.replace(/[\r\n]+/g, '').replace(LEADING_ESC, '').trim();
    if (line === '') return;
    if (this.#pendingUrc !== undefined) {
      const head = this.#pendingUrc;
      this.#pendingUrc = undefined;
      // +CMT/+CDS: the PDU is the next line. A line that is no hex (a PDU line lost to noise)
      // is not taken as the PDU: it may be the final result of the command in flight.
      if (/^[0-9A-F]+$/i.test(line)) {
        this.emit('urc', parseUrc(head, line));
        return;
      }
      this.emit('urc', { type: 'malformed', head: head.slice(0, 4).toUpperCase(), reason: 'no PDU line after the header' });
    }
    const current = this.#current;
    if (current && isEchoOrPrompt(line, current)) return;
    if (current?.options.upload && !current.uploaded && CONNECT.test(line)) {
      current.uploaded = true;
      this.transport.write(Buffer.from(current.options.upload)).catch((error: unknown) => {
        this.#finish(current, new ModemError('write failed', { kind: 'closed', command: current.label, cause: error }));
      });
      return;
    }
    if (current?.prefix && line.toUpperCase().startsWith(current.prefix)) {
      current.sawResponse = true;
      current.lines.push(line);
      return;
    }
    if (looksUnsolicited(line)) {
      if (TWO_LINE_URCS.some((p) => line.toUpperCase().startsWith(p))) this.#pendingUrc = line;
      else this.emit('urc', parseUrc(line));
      return;
    }
    if (!current) {
      if (!FINAL_OK.test(line) && !FINAL_ERROR.test(line)) this.emit('garbage', line);
      return;
    }
    if (FINAL_OK.test(line)) {
      if (current.options.requireResponse && !current.sawResponse) return; // stray OK from an aborted exchange
      if (current.awaitingPrompt) return; // an OK cannot answer AT+CMGS before its prompt
      this.#finish(current, { lines: current.lines, final: line });
      return;
    }
    if (FINAL_ERROR.test(line)) {
      this.#finish(current, ModemError.fromFinal(line, current.label));
      return;
    }
    current.lines.push(line);
  }

  #onTimeout(pending: Pending): void {
    if (this.#current !== pending) return;
    const stage = pending.awaitingPrompt ? 'no-prompt' : 'timeout';
    // A modem left sitting at "> " would swallow every later command as PDU text.
    if (pending.options.payload !== undefined) void this.escape();
    this.#finish(pending, new ModemError(stage === 'no-prompt' ? 'no "> " prompt' : 'no response before deadline', {
      kind: stage,
      command: pending.label,
    }));
  }

  #finish(pending: Pending, result: AtResponse | ModemError): void {
    if (this.#current !== pending) return;
    pending.timer?.cancel();
    this.#current = undefined;
    this.#rawTail = '';
    if (result instanceof ModemError) pending.reject(result);
    else pending.resolve(result);
    this.#next();
  }

  #onClose = (error: Error | undefined): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.transport.off('data', this.#onData);
    this.transport.off('close', this.#onClose);
    const failed = [...(this.#current ? [this.#current] : []), ...this.#queue];
    this.#current = undefined;
    this.#queue = [];
    for (const pending of failed) {
      pending.timer?.cancel();
      pending.reject(new ModemError('port closed', { kind: 'closed', command: pending.label, cause: error }));
    }
    this.emit('close', error);
  };
}

/** `AT+CMGR=3` → `+CMGR:`; `AT+CPIN?` → `+CPIN:`; plain commands have no prefix. */
export function derivePrefix(command: string): string | undefined {
  const match = /^AT([+^$#!][A-Z0-9]+)/i.exec(command.trim());
  return match ? `${match[1]!.toUpperCase()}:` : undefined;
}

function labelOf(command: string, options: CommandOptions): string {
  return options.redactedAs ?? command;
}

function isEchoOrPrompt(line: string, pending: Pending): boolean {
  if (line.toUpperCase() === pending.command.trim().toUpperCase()) return true;
  if (line.startsWith('>')) return true; // the prompt, with or without the echoed PDU behind it
  const payload = pending.options.payload;
  return payload !== undefined && line.replace(CTRL_Z, '').toUpperCase() === payload.toUpperCase();
}
