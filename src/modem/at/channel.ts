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
  /**
   * A final OK before a line with the response prefix is a stray from an earlier exchange.
   * Derived when absent: extended queries (`AT+CREG?`), `AT+CSQ` and `AT+CMGS` must carry their
   * `+NAME:` line; `AT+CMGR` may also be a bare OK (an empty slot on some modems).
   */
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
  /**
   * Written even while the channel is out of step, without the resynchronising handshake first:
   * for commands that are themselves the recovery (the init's first `AT`, a reset).
   */
  skipResync?: boolean;
}

export interface AtResponse {
  /** Intermediate lines, in order, echo and URCs removed. */
  lines: string[];
  final: string;
}

/** What a well-formed answer must carry (see CommandOptions.requireResponse). */
type Shape = 'required' | 'or-empty' | 'any';

interface Pending {
  command: string;
  label: string;
  options: CommandOptions;
  prefix: string | undefined;
  shape: Shape;
  /** The channel's own resynchronising handshake. */
  marker?: boolean;
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
  /** After a timeout or cancel, how long to wait for the cut-off command's late final result; defaults to defaultTimeoutMs. */
  resyncWaitMs?: number;
}

/**
 * Handshakes that bring a confused channel back in step. Each is a query every 27.005/27.007
 * modem answers with one information line of its own prefix, which no command the gateway
 * otherwise sends produces; a modem answers in order, so everything before the marker's line
 * belongs to older commands and is discarded. A plain `AT` would not do: its `OK` is the same
 * as any late `OK`. A marker whose own attempt was cut off is not used again until the channel
 * is back in step, so a late answer to it can never pass for the next attempt's.
 */
export const RESYNC_MARKERS = ['AT+CMEE?', 'AT+CMGF?', 'AT+CSCS?'] as const;

const FINAL_OK = /^OK$/i;
const FINAL_ERROR = /^(ERROR|\+CM[ES] ERROR:.*|COMMAND NOT SUPPORT|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|ABORTED)$/i;
const CONNECT = /^CONNECT(\s+\d+)?$/i;
const CTRL_Z = '\x1a';
const ESC = '\x1b';
const LEADING_ESC = new RegExp(`^${ESC}+`);
/** An information line of some command's answer (`+CSQ: 20,99`), as opposed to a bare value. */
const RESPONSE_LINE = /^[+^$#!][A-Z0-9]+:/i;

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
  #resyncWaitMs: number;
  /** Lines from the modem are being parsed: the next command is written once the whole chunk is read. */
  #parsing = false;
  /** Something answered out of turn (a timeout, a cancel, a stray): resynchronise before the next command. */
  #outOfStep = false;
  /** Final results still owed by commands that were cut off (timed out or cancelled). */
  #owed = 0;
  /** Waiting (bounded) for those owed finals before the handshake. */
  #drainTimer: Timer | undefined;
  /** Response prefixes of commands cut off since the channel was last in step: no marker may share one. */
  #cutPrefixes = new Set<string>();
  /** A cut-off command had a `> ` prompt: the modem may sit at one now and needs ESC first. */
  #cutPrompt = false;

  constructor(transport: ModemTransport, options: AtChannelOptions) {
    super();
    this.transport = transport;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
    this.#resyncWaitMs = options.resyncWaitMs ?? this.#defaultTimeoutMs;
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

  /** The next command will be preceded by a resynchronising handshake. */
  get outOfStep(): boolean {
    return this.#outOfStep;
  }

  /** Runs one command; resolves on OK, rejects with ModemError on an error code, timeout or close. */
  command(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    if (this.#closed) return Promise.reject(new ModemError('port closed', { kind: 'closed', command: labelOf(command, options) }));
    return new Promise((resolve, reject) => {
      const prefix = options.responsePrefix ?? derivePrefix(command);
      const pending: Pending = {
        command,
        label: labelOf(command, options),
        options,
        prefix,
        shape: shapeOf(command, options, prefix),
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
    if (this.#current || this.#closed || this.#parsing) return;
    const head = this.#queue[0];
    if (!head) return;
    if (this.#outOfStep && !head.options.skipResync) {
      this.#resync(head);
      return;
    }
    this.#queue.shift();
    this.#write(head);
  }

  /**
   * Before the next command after a timeout, cancel or stray answer: wait (bounded) for the
   * finals the cut-off commands still owe, then a marker handshake (see RESYNC_MARKERS).
   */
  #resync(head: Pending): void {
    if (this.#drainTimer) return;
    if (this.#owed > 0) {
      this.#drainTimer = this.#clock.setTimeout(() => {
        this.#drainTimer = undefined;
        this.#owed = 0;
        this.#next();
      }, this.#resyncWaitMs);
      return;
    }
    const marker = RESYNC_MARKERS.find((m) => !this.#cutPrefixes.has(derivePrefix(m)!));
    if (!marker) {
      // Every handshake was cut off: give up on this command; the next one starts over.
      this.#cutPrefixes.clear();
      this.#queue.shift();
      head.reject(new ModemError('modem out of step: no resynchronising handshake answered', { kind: 'timeout', command: head.label }));
      this.#next();
      return;
    }
    this.#log.debug({ marker, before: head.label }, 'resynchronising the AT channel');
    if (this.#cutPrompt) void this.escape();
    this.#cutPrompt = false;
    const prefix = derivePrefix(marker);
    this.#write({
      command: marker,
      label: marker,
      options: {},
      prefix,
      shape: 'required',
      marker: true,
      lines: [],
      resolve: () => {
        this.#outOfStep = false;
        this.#cutPrefixes.clear();
      },
      reject: (error) => {
        this.#cutPrefixes.add(prefix!);
        // Answered with an error (unsupported?): try another marker. Cut off: the waiting command
        // fails with it, so a silent modem costs each command one wait and one handshake, and
        // the driver's timeout count reaches its soft reset.
        if (error.kind !== 'timeout') return;
        const at = this.#queue.indexOf(head);
        if (at < 0) return;
        this.#queue.splice(at, 1);
        head.reject(new ModemError('modem out of step: the resynchronising handshake went unanswered', { kind: 'timeout', command: head.label }));
      },
      awaitingPrompt: false,
      sawResponse: false,
      uploaded: false,
    });
  }

  #write(pending: Pending): void {
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
    this.#parsing = true;
    try {
      this.#parser.write(chunk);
    } finally {
      this.#parsing = false;
    }
    // Only now: a second answer later in the same chunk must not pass for the next command's.
    this.#next();
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
      if (current.awaitingPrompt) {
        // No answer comes before the prompt: this one belongs to an earlier command.
        this.#stray(line);
        return;
      }
      current.sawResponse = true;
      current.lines.push(line);
      return;
    }
    if (looksUnsolicited(line)) {
      if (TWO_LINE_URCS.some((p) => line.toUpperCase().startsWith(p))) this.#pendingUrc = line;
      else this.emit('urc', parseUrc(line));
      return;
    }
    const final = FINAL_OK.test(line) || FINAL_ERROR.test(line);
    if (!current) {
      if (final && this.#owed > 0) {
        // A cut-off command's late answer: the wait for it can end once none is owed.
        if (--this.#owed === 0) {
          this.#drainTimer?.cancel();
          this.#drainTimer = undefined;
        }
      } else if (final) this.#stray(line);
      else if (this.#outOfStep) this.#late(line);
      else this.emit('garbage', line);
      return;
    }
    // The marker's answer is the first line of its own prefix; whatever comes before is older.
    if (current.marker && !current.sawResponse) {
      if (!final) this.#late(line);
      return;
    }
    if (FINAL_OK.test(line)) {
      if (current.awaitingPrompt) return this.#stray(line); // an OK cannot answer AT+CMGS before its prompt
      if (current.shape === 'required' && !current.sawResponse) return this.#stray(line);
      // An empty slot on some modems, or a stray: either way the next command resynchronises first.
      if (current.shape === 'or-empty' && !current.sawResponse) this.#outOfStep = true;
      this.#finish(current, { lines: current.lines, final: line });
      return;
    }
    if (FINAL_ERROR.test(line)) {
      this.#finish(current, ModemError.fromFinal(line, current.label));
      return;
    }
    if (current.shape !== 'any' && current.prefix && RESPONSE_LINE.test(line)) {
      // Another command's answer (`+CSQ:` while `+CREG:` is awaited): never part of this one.
      this.#stray(line);
      return;
    }
    current.lines.push(line);
  }

  /** A line of a cut-off command's late answer, discarded. */
  #late(line: string): void {
    // The network took a send the driver gave up on: a retry of it will go out twice.
    if (/^\+CMGS:/i.test(line)) this.#log.warn('a send that timed out was accepted late; a retry sends it again');
    else this.#log.debug({ length: line.length }, 'discarded a late answer line');
  }

  /** A line that answers no command in flight: discard it, and resynchronise before the next command. */
  #stray(line: string): void {
    this.#outOfStep = true;
    this.#log.debug({ length: line.length }, 'discarded an answer out of turn');
  }

  #onTimeout(pending: Pending): void {
    if (this.#current !== pending) return;
    const stage = pending.awaitingPrompt ? 'no-prompt' : 'timeout';
    // A modem left sitting at "> " would swallow every later command as PDU text.
    if (pending.options.payload !== undefined) void this.escape();
    // The modem still owes this command (or the ESC) a final result, which must not answer the next one.
    this.#outOfStep = true;
    this.#owed++;
    if (pending.prefix) this.#cutPrefixes.add(pending.prefix);
    if (pending.options.payload !== undefined) this.#cutPrompt = true;
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
    this.#drainTimer?.cancel();
    this.#drainTimer = undefined;
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

function shapeOf(command: string, options: CommandOptions, prefix: string | undefined): Shape {
  if (options.requireResponse !== undefined) return options.requireResponse ? 'required' : 'any';
  if (!prefix) return 'any';
  const text = command.trim().toUpperCase();
  if (options.payload !== undefined && text.startsWith('AT+CMGS=')) return 'required';
  if (text.startsWith('AT+CMGR=')) return 'or-empty';
  if (text === 'AT+CSQ' || /^AT\+[A-Z0-9]+\?$/.test(text)) return 'required';
  return 'any';
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
