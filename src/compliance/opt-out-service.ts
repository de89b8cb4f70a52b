import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock/index.ts';
import type { NumberConfig, OptOutConfig } from '../config/index.ts';
import { ContactOptedOutError, NotFoundError, ValidationError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import { toContact } from '../messaging/index.ts';
import type { Logger } from '../logging/index.ts';
import {
  OptOutsRepository,
  OutboxRepository,
  type Database,
  type NumberRecord,
  type NumbersRepository,
  type OptOutAuditRecord,
  type OptOutRecord,
  type OptOutSource,
  type OptOutState,
  type SqlStore,
} from '../store/index.ts';
import type { ContactOptPayload } from '../webhooks/index.ts';
import { matchKeyword, type KeywordMatch } from './keywords.ts';
import { resolveOptOutSettings, type OptOutSettings } from './settings.ts';

export interface OptOutServiceDeps {
  /** Admin changes run in their own store.tx; keyword changes run in the receive transaction. */
  store: SqlStore<Database>;
  numbers: NumbersRepository;
  clock: Clock;
  logger: Logger;
  config: OptOutConfig;
  numberSettings: readonly NumberConfig[];
  /**
   * Queues an auto-answer from the number to the contact on `tx`, the caller's transaction (it
   * must not open one of its own), as a normal metered message that skips the opt-out check (a
   * STOP's confirmation must still go). Database work only: it runs inside the receive transaction.
   */
  autoReply(tx: Kysely<Database>, number: NumberRecord, to: string, text: string): Promise<void>;
  /** Wakes the webhook dispatcher after an admin change committed its event. */
  webhooks: { notify(): void };
}

/** An admin change: who asked (`cli:alice`, `dashboard`, `admin-api`) and why. */
export interface AdminChange {
  actor?: string | undefined;
  note?: string | undefined;
}

const MAX_ACTOR_CHARS = 100;
const MAX_NOTE_CHARS = 500;

/**
 * Opt-out compliance for every number: keywords in, state and audit in the store, events out,
 * and the check every send and call from a number makes before it is accepted.
 */
export class OptOutService {
  private readonly log: Logger;
  private readonly settingsByLine = new Map<string | null, OptOutSettings>();
  /** Reads outside any transaction. */
  private readonly repo: OptOutsRepository;

  constructor(private readonly deps: OptOutServiceDeps) {
    this.log = deps.logger.child({ mod: 'opt-out' });
    this.repo = new OptOutsRepository(deps.store.db);
  }

  /** The number's resolved settings (global under its numbers[] entry), computed once per line. */
  settingsFor(number: NumberRecord): OptOutSettings {
    let s = this.settingsByLine.get(number.lineId);
    if (!s) {
      s = resolveOptOutSettings(this.deps.config, this.deps.numberSettings, number.lineId);
      this.settingsByLine.set(number.lineId, s);
    }
    return s;
  }

  /**
   * Throws ContactOptedOutError (403) when the contact opted out of the number; one primary-key
   * lookup on `db`: the caller's transaction when it is in one (the root executor is refused
   * there), else the store's root executor.
   */
  async assertAllowed(db: Kysely<Database>, number: NumberRecord, contact: string): Promise<void> {
    const state = await new OptOutsRepository(db).get(number.id, contact);
    if (state?.state === 'opted_out') throw new ContactOptedOutError(contact, number.id, refusal(number, state));
  }

  /**
   * On `tx`, the transaction that stored an inbound message: acts on it when the whole message
   * is a keyword. STOP opts out (and confirms) unless already opted out; START opts back in (and
   * confirms) only when opted out, so a plain "yes" stays a message; HELP always answers.
   * Atomic with the inbound message (one transaction): the state, its audit row, its
   * contact.opted_* event and the auto-answer; the answer in a savepoint of its own, so a refused
   * answer leaves the rest. A STOP stored is therefore never a STOP not acted on. The change is
   * conditional (OptOutsRepository.record), so a STOP racing an admin change on another node
   * writes one change, not two.
   */
  async onInbound(tx: Kysely<Database>, number: NumberRecord, contact: string, body: string, messageId: string): Promise<KeywordMatch | null> {
    const settings = this.settingsFor(number);
    if (!settings.enabled) return null;
    const match = matchKeyword(body, settings.keywords);
    if (!match) return null;
    const current = (await new OptOutsRepository(tx).get(number.id, contact))?.state ?? 'opted_in';
    const how = { source: 'keyword', keyword: match.keyword, actor: 'contact', note: null, messageId } as const;
    if (match.kind === 'help') {
      await this.answer(tx, number, contact, settings.helpText);
    } else if (match.kind === 'opt_out' && current !== 'opted_out' && (await this.change(tx, number, contact, 'opted_out', how))) {
      await this.answer(tx, number, contact, settings.confirmation);
    } else if (match.kind === 'opt_in' && current === 'opted_out' && (await this.change(tx, number, contact, 'opted_in', how))) {
      await this.answer(tx, number, contact, settings.optInConfirmation);
    } else {
      return null;
    }
    this.log.info({ numberId: number.id, kind: match.kind }, 'opt-out keyword acted on');
    return match;
  }

  /** An admin opts the contact out of the number; returns the state (unchanged when already out). */
  adminOptOut(numberId: string, rawContact: string, change: AdminChange): Promise<OptOutRecord> {
    return this.adminSet(numberId, rawContact, 'opted_out', change);
  }

  /** An admin removes the contact's opt-out; 404 when the contact is not opted out. */
  adminOptIn(numberId: string, rawContact: string, change: AdminChange): Promise<OptOutRecord> {
    return this.adminSet(numberId, rawContact, 'opted_in', change);
  }

  /** The contact's state, normalised as the admin changes are (the + of E.164 may be lost in a URL path). */
  get(numberId: string, rawContact: string): Promise<OptOutRecord | undefined> {
    return this.repo.get(numberId, normalizeContact(rawContact));
  }

  list(filter: { numberId?: string | undefined; state?: OptOutState | undefined; limit: number }): Promise<OptOutRecord[]> {
    return this.repo.list(filter);
  }

  audit(filter: { numberId?: string | undefined; contact?: string | undefined; limit: number }): Promise<OptOutAuditRecord[]> {
    return this.repo.audit(filter);
  }

  /**
   * One transaction: the state, its audit row and its event (the outbox rule). A concurrent
   * change to the same contact (another admin, a keyword on another node) cannot make both
   * write: the change is conditional, and an opt-in that finds the contact no longer opted
   * out by the time it writes is the 404 it would have been a moment later.
   */
  private async adminSet(numberId: string, rawContact: string, state: OptOutState, change: AdminChange): Promise<OptOutRecord> {
    const number = await this.deps.numbers.get(numberId);
    if (!number) throw new NotFoundError(`Number ${numberId} not found`);
    const contact = normalizeContact(rawContact);
    const actor = boundedText(change.actor ?? 'admin-api', 'actor', MAX_ACTOR_CHARS);
    const note = change.note === undefined ? null : boundedText(change.note, 'note', MAX_NOTE_CHARS);
    const notOptedOut = () => new NotFoundError(`${contact} is not opted out of ${number.phoneNumber} (${number.id})`);
    const changed = await this.deps.store.tx(async (tx) => {
      const current = await new OptOutsRepository(tx).get(number.id, contact);
      if (state === 'opted_in' && current?.state !== 'opted_out') throw notOptedOut();
      if (current?.state === state) return false;
      const wrote = await this.change(tx, number, contact, state, { source: 'admin', keyword: null, actor, note, messageId: null });
      if (!wrote && state === 'opted_in') throw notOptedOut();
      return wrote;
    });
    if (changed) {
      this.deps.webhooks.notify();
      this.log.info({ numberId: number.id, state }, 'opt-out changed by an admin');
    }
    return (await this.repo.get(number.id, contact)) as OptOutRecord;
  }

  /** On `tx`: the state, its audit row and its event; false (nothing written) when the state was already `state`. */
  private async change(
    tx: Kysely<Database>,
    number: NumberRecord,
    contact: string,
    state: OptOutState,
    how: { source: OptOutSource; keyword: string | null; actor: string; note: string | null; messageId: string | null },
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    const changed = await new OptOutsRepository(tx).record({ numberId: number.id, contact, state, source: how.source, keyword: how.keyword, actor: how.actor, note: how.note, at });
    if (!changed) return false;
    const payload: ContactOptPayload = {
      event: state === 'opted_out' ? 'contact.opted_out' : 'contact.opted_in',
      contact,
      number: number.phoneNumber,
      number_id: number.id,
      source: how.source,
      keyword: how.keyword,
      actor: how.actor,
      message_id: how.messageId,
      timestamp: at,
    };
    await new OutboxRepository(tx).insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: how.messageId, payload: JSON.stringify(payload), now });
    return true;
  }

  /** An auto-answer on `tx`; its failure (no line, quota, a text the line cannot take) never undoes the change. */
  private async answer(tx: Kysely<Database>, number: NumberRecord, contact: string, text: string): Promise<void> {
    if (text === '') return;
    // A savepoint (same syntax on SQLite and PostgreSQL): a refused answer leaves nothing
    // half-written in the receive transaction, and on PostgreSQL a failed statement does not
    // leave the whole transaction aborted.
    await sql`savepoint opt_out_answer`.execute(tx);
    try {
      await this.deps.autoReply(tx, number, contact, text);
    } catch (err) {
      await sql`rollback to savepoint opt_out_answer`.execute(tx);
      this.log.warn({ numberId: number.id, code: (err as { code?: string }).code ?? 'UNKNOWN' }, 'opt-out auto-answer not sent');
    }
    await sql`release savepoint opt_out_answer`.execute(tx);
  }
}

function refusal(number: NumberRecord, s: OptOutRecord): string {
  const how = s.source === 'keyword' ? `they replied "${s.keyword ?? 'STOP'}"` : `an admin (${s.actor}) opted them out`;
  return (
    `${s.contact} opted out of messages from ${number.phoneNumber} (${number.id}): ${how} at ${s.updatedAt}. ` +
    'Sends and calls to them from this number are refused until they reply START or an admin removes the opt-out (agentphone optout remove)'
  );
}

/** A contact as stored: E.164 (the + may be lost in a URL path) or an alphanumeric sender. */
function normalizeContact(raw: string): string {
  if (raw.length > 40) throw new ValidationError('contact: at most 40 characters');
  return toContact(raw, 'contact');
}

function boundedText(value: string, field: string, max: number): string {
  if (value.length > max) throw new ValidationError(`${field}: at most ${max} characters`);
  return value;
}
