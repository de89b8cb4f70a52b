import type { Logger } from '../logging/index.ts';
import type { AtChannel } from './at/channel.ts';
import type { Urc } from './at/urc.ts';
import { ModemError } from './errors.ts';
import type { HardwareProfile } from './profiles.ts';
import { parseStoredPdus, pduKind, type StoredPdu } from './responses.ts';

/** A PDU the modem received, handed to the caller; it stays on the modem until confirmed. */
export interface InboundPdu {
  lineId: string;
  kind: 'deliver' | 'status-report';
  /** Hex, starting with the SMSC field. */
  pdu: string;
  /** Where it is stored, or undefined for direct delivery (+CMT / +CDS). */
  storage: string | undefined;
  index: number | undefined;
  /** 27.005 stat: 0 received unread, 1 received read. */
  stat: number | undefined;
  /** Call once the PDU is durably stored: deletes it from the modem (or acks a +CMT/+CDS). */
  confirm(): Promise<void>;
}

export interface InboxContext {
  lineId: string;
  channel: AtChannel;
  profile: HardwareProfile;
  logger: Logger;
  commandTimeoutMs: number;
  /** +CMT/+CDS must be acknowledged with AT+CNMA (the modem runs CSMS service 1); absent: as the profile's csms says. */
  ackDirect?: boolean;
  /** AT+CNMA came too late: the modem has turned direct routing off and the network will redeliver. */
  onAckRefused?: () => void;
  emit(pdu: InboundPdu): void;
}

/**
 * Receiving: reads announced and backlogged messages and status reports, remembers what
 * was handed out so it is not handed out twice, and deletes only on confirmation.
 */
export class Inbox {
  #ctx: InboxContext;
  /** storage:index → the kind handed out from there, until its deletion is confirmed. */
  #handedOut = new Map<string, InboundPdu['kind']>();
  #lock: Promise<unknown> = Promise.resolve();
  /** A listing queued behind other storage work and not started yet: later requests share it. */
  #drainQueued: Promise<number> | undefined;
  /** Counts +CMT/+CDS: the modem hands over one at a time, so a newer one means an older one's ack is void. */
  #directSeq = 0;

  constructor(ctx: InboxContext) {
    this.#ctx = ctx;
  }

  /** Points the inbox at a fresh channel after a reconnect; unconfirmed PDUs will be listed again. */
  reset(ctx: InboxContext): void {
    this.#ctx = ctx;
    this.#handedOut.clear();
    this.#lock = Promise.resolve();
    this.#drainQueued = undefined;
  }

  handleUrc(urc: Urc): void {
    switch (urc.type) {
      case 'new-message':
        void this.#guard(this.readStored(urc.storage, urc.index));
        break;
      case 'new-status-report':
        void this.#guard(this.readStored(urc.storage, urc.index, this.#statusReportStorages(urc.storage), 'status-report'));
        break;
      case 'message':
      case 'status-report':
        this.#direct(urc.type === 'message' ? 'deliver' : 'status-report', urc.pdu);
        break;
      case 'storage-full':
        void this.#guard(this.drain());
        break;
      default:
        break;
    }
  }

  /**
   * Lists everything stored (the read storage, the SIM, then the status-report storage) and hands it out.
   * A modem with full storage says so once per refused delivery: a burst of those URCs makes
   * one listing, not one each queued ahead of the reads of what was announced.
   */
  drain(): Promise<number> {
    this.#drainQueued ??= this.#locked(async () => {
      this.#drainQueued = undefined;
      const { profile } = this.#ctx;
      let count = await this.#list(profile.storage.read);
      // Texts the SIM (SM) holds: where many modems store what arrives before they are told
      // otherwise (after a power cycle, before this line's AT+CPMS). Reports may sit in SR even
      // where the profile says otherwise (misnamed +CDSI storages).
      for (const storage of new Set(['SM', profile.statusReportStorage, 'SR'])) {
        if (storage === profile.storage.read) continue;
        count += await this.#list(storage).catch(() => 0);
      }
      return count;
    });
    return this.#drainQueued;
  }

  /** AT+CMGR on the storage the URC named; falls back to other storages for misnamed reports. */
  async readStored(storage: string, index: number, fallbacks: string[] = [], expect?: 'status-report'): Promise<void> {
    for (const candidate of [...new Set([storage, ...fallbacks])]) {
      const found = await this.#locked(async () => {
        const handedOut = this.#handedOut.get(`${candidate}:${index}`);
        // Already handed out (a listing got to it first) and not yet deleted: it is being
        // handled. A misnamed storage may hold another kind of message there: look on.
        if (handedOut !== undefined) return expect === undefined || handedOut === expect;
        const read = async (): Promise<StoredPdu[]> =>
          parseStoredPdus((await this.#cmd(`AT+CMGR=${index}`)).lines, '+CMGR:');
        const stored = await this.#onStorage(candidate, read).catch((error: unknown) => {
          if (error instanceof ModemError && error.kind === 'cms' && error.errorCode === 321) return [];
          throw error;
        });
        const first = stored[0];
        // A misnamed storage can hold some other message at that index.
        if (!first || (expect !== undefined && pduKind(first.pdu) !== expect)) return false;
        this.#handOut(candidate, { ...first, index });
        return true;
      });
      if (found) return;
    }
    this.#ctx.logger.warn({ storage, index }, 'announced message not found in any storage');
  }

  async #list(storage: string): Promise<number> {
    const stored = await this.#onStorage(storage, async () => parseStoredPdus((await this.#cmd('AT+CMGL=4')).lines, '+CMGL:'));
    let count = 0;
    for (const item of stored) {
      if (item.stat > 1 || this.#handedOut.has(`${storage}:${item.index}`)) continue; // stat 2/3: our own stored outgoing
      this.#handOut(storage, item);
      count++;
    }
    return count;
  }

  #handOut(storage: string, item: StoredPdu): void {
    const kind = pduKind(item.pdu);
    if (kind !== 'deliver' && kind !== 'status-report') {
      this.#ctx.logger.warn({ storage, index: item.index, kind }, 'ignoring stored PDU of unexpected type');
      return;
    }
    const key = `${storage}:${item.index}`;
    this.#handedOut.set(key, kind);
    const ctx = this.#ctx;
    ctx.emit({
      lineId: ctx.lineId,
      kind,
      pdu: item.pdu,
      storage,
      index: item.index,
      stat: item.stat,
      confirm: () =>
        this.#locked(async () => {
          if (this.#ctx !== ctx) return; // reconnected since: the backlog listing will offer it again
          await this.#onStorage(storage, () => this.#cmd(`AT+CMGD=${item.index}`));
          this.#handedOut.delete(key);
        }),
    });
  }

  #direct(kind: 'deliver' | 'status-report', pdu: string): void {
    const ctx = this.#ctx;
    const seq = ++this.#directSeq;
    let acked = false;
    // Handed out on the next turn of the event loop, not from inside the line parser: a +CDS
    // often follows the `+CMGS: <mr>` / `OK` of its own send in the same read, and the send's
    // TP-MR is recorded in the promise chain that OK resolves. Taken at once, the report
    // would be matched before its message has an MR, found no part, and be acknowledged lost.
    setImmediate(() => ctx.emit({
      lineId: ctx.lineId,
      kind,
      pdu: pdu.toUpperCase(),
      storage: undefined,
      index: undefined,
      stat: undefined,
      // Called only once the message is committed: an unacknowledged one is redelivered.
      confirm: async () => {
        // Not after a reconnect or a newer +CMT/+CDS: an AT+CNMA acks whatever the modem holds now.
        if (acked || !(ctx.ackDirect ?? ctx.profile.csms === 1) || this.#ctx !== ctx || seq !== this.#directSeq) return;
        acked = true;
        await this.#cmd('AT+CNMA').catch((error: unknown) => {
          // 340: no acknowledgement expected any more: the modem gave up waiting (and turned
          // routing off); the network redelivers, and the store drops the duplicate.
          if (!(error instanceof ModemError && error.errorCode === 340)) throw error;
          ctx.logger.warn('acknowledgement refused: the modem stopped waiting for it');
          ctx.onAckRefused?.();
        });
      },
    }));
  }

  #statusReportStorages(announced: string): string[] {
    const { profile } = this.#ctx;
    return [announced, profile.statusReportStorage, 'SR', profile.storage.read, 'ME', 'SM'];
  }

  async #onStorage<T>(storage: string, fn: () => Promise<T>): Promise<T> {
    const home = this.#ctx.profile.storage.read;
    if (storage === home) return fn();
    await this.#cmd(cpmsReading(this.#ctx.profile, storage));
    try {
      return await fn();
    } finally {
      await this.#cmd(cpmsReading(this.#ctx.profile, home)).catch(() => undefined);
    }
  }

  #cmd(command: string): ReturnType<AtChannel['command']> {
    // Ahead of waiting sends: a report read late is a report whose storage slot stays taken,
    // and once storage is full the network holds everything back.
    return this.#ctx.channel.command(command, { timeoutMs: this.#ctx.commandTimeoutMs, priority: true });
  }

  /** Storage switches (CPMS) must not interleave, so storage work runs one at a time. */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #guard(work: Promise<unknown>): Promise<void> {
    try {
      await work;
    } catch (error) {
      this.#ctx.logger.warn({ err: String(error) }, 'reading a received message failed');
    }
  }
}

/**
 * AT+CPMS that reads and deletes from `storage`, with the parameter count the model accepts
 * (the Huawei E3372 answers the one-parameter form with ERROR); the write and receive storages
 * stay the profile's, so switching never moves where new messages land.
 */
export function cpmsReading(profile: HardwareProfile, storage: string): string {
  const { write, receive, paramCount } = profile.storage;
  return `AT+CPMS=${[storage, write, receive].slice(0, paramCount).map((s) => `"${s}"`).join(',')}`;
}
