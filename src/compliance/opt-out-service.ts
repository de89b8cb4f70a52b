import type { Clock } from '../clock/index.ts';
import type { NumberConfig, OptOutConfig } from '../config/index.ts';
import { ContactOptedOutError, NotFoundError, ValidationError } from '../errors/index.ts';
import { newId } from '../ids/index.ts';
import { toContact } from '../messaging/index.ts';
import type { Logger } from '../logging/index.ts';
import type { Db, NumberRecord, NumbersRepository, OptOutAuditRecord, OptOutRecord, OptOutSource, OptOutState, OptOutsRepository, OutboxRepository } from '../store/index.ts';
import type { ContactOptPayload } from '../webhooks/index.ts';
import { matchKeyword, type KeywordMatch } from './keywords.ts';
import { resolveOptOutSettings, type OptOutSettings } from './settings.ts';

export interface OptOutServiceDeps {
  db: Db;
  repo: OptOutsRepository;
  numbers: NumbersRepository;
  outbox: OutboxRepository;
  clock: Clock;
  logger: Logger;
  config: OptOutConfig;
  numberSettings: readonly NumberConfig[];
  /**
   * Queues an auto-answer from the number to the contact, inside the caller's transaction, as a
   * normal metered message that skips the opt-out check (a STOP's confirmation must still go).
   */
  autoReply(number: NumberRecord, to: string, text: string): void;
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

  constructor(private readonly deps: OptOutServiceDeps) {
    this.log = deps.logger.child({ mod: 'opt-out' });
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

  /** Throws ContactOptedOutError (403) when the contact opted out of the number; one primary-key lookup. */
  assertAllowed(number: NumberRecord, contact: string): void {
    const state = this.deps.repo.get(number.id, contact);
    if (state?.state === 'opted_out') throw new ContactOptedOutError(contact, number.id, refusal(number, state));
  }

  /**
   * Inside the transaction that stored an inbound message: acts on it when the whole message is
   * a keyword. STOP opts out (and confirms) unless already opted out; START opts back in (and
   * confirms) only when opted out, so a plain "yes" stays a message; HELP always answers.
   */
  onInbound(number: NumberRecord, contact: string, body: string, messageId: string): KeywordMatch | null {
    const settings = this.settingsFor(number);
    if (!settings.enabled) return null;
    const match = matchKeyword(body, settings.keywords);
    if (!match) return null;
    const current = this.deps.repo.get(number.id, contact)?.state ?? 'opted_in';
    if (match.kind === 'help') {
      this.answer(number, contact, settings.helpText);
    } else if (match.kind === 'opt_out' && current !== 'opted_out') {
      this.change(number, contact, 'opted_out', { source: 'keyword', keyword: match.keyword, actor: 'contact', note: null, messageId });
      this.answer(number, contact, settings.confirmation);
    } else if (match.kind === 'opt_in' && current === 'opted_out') {
      this.change(number, contact, 'opted_in', { source: 'keyword', keyword: match.keyword, actor: 'contact', note: null, messageId });
      this.answer(number, contact, settings.optInConfirmation);
    } else {
      return null;
    }
    this.log.info({ numberId: number.id, kind: match.kind }, 'opt-out keyword acted on');
    return match;
  }

  /** An admin opts the contact out of the number; returns the state (unchanged when already out). */
  adminOptOut(numberId: string, rawContact: string, change: AdminChange): OptOutRecord {
    return this.adminSet(numberId, rawContact, 'opted_out', change);
  }

  /** An admin removes the contact's opt-out; 404 when the contact is not opted out. */
  adminOptIn(numberId: string, rawContact: string, change: AdminChange): OptOutRecord {
    return this.adminSet(numberId, rawContact, 'opted_in', change);
  }

  /** The contact's state, normalised as the admin changes are (the + of E.164 may be lost in a URL path). */
  get(numberId: string, rawContact: string): OptOutRecord | undefined {
    return this.deps.repo.get(numberId, normalizeContact(rawContact));
  }

  list(filter: { numberId?: string | undefined; state?: OptOutState | undefined; limit: number }): OptOutRecord[] {
    return this.deps.repo.list(filter);
  }

  audit(filter: { numberId?: string | undefined; contact?: string | undefined; limit: number }): OptOutAuditRecord[] {
    return this.deps.repo.audit(filter);
  }

  private adminSet(numberId: string, rawContact: string, state: OptOutState, change: AdminChange): OptOutRecord {
    const number = this.deps.numbers.get(numberId);
    if (!number) throw new NotFoundError(`Number ${numberId} not found`);
    const contact = normalizeContact(rawContact);
    const actor = boundedText(change.actor ?? 'admin-api', 'actor', MAX_ACTOR_CHARS);
    const note = change.note === undefined ? null : boundedText(change.note, 'note', MAX_NOTE_CHARS);
    const changed = this.deps.db.transaction(() => {
      const current = this.deps.repo.get(number.id, contact);
      if (state === 'opted_in' && current?.state !== 'opted_out') {
        throw new NotFoundError(`${contact} is not opted out of ${number.phoneNumber} (${number.id})`);
      }
      if (current?.state === state) return false;
      this.change(number, contact, state, { source: 'admin', keyword: null, actor, note, messageId: null });
      return true;
    })();
    if (changed) {
      this.deps.webhooks.notify();
      this.log.info({ numberId: number.id, state }, 'opt-out changed by an admin');
    }
    return this.deps.repo.get(number.id, contact) as OptOutRecord;
  }

  private change(
    number: NumberRecord,
    contact: string,
    state: OptOutState,
    how: { source: OptOutSource; keyword: string | null; actor: string; note: string | null; messageId: string | null },
  ): void {
    const now = this.deps.clock.now();
    const at = new Date(now).toISOString();
    this.deps.repo.record({ numberId: number.id, contact, state, source: how.source, keyword: how.keyword, actor: how.actor, note: how.note, at });
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
    this.deps.outbox.insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: how.messageId, payload: JSON.stringify(payload), now });
  }

  /** An auto-answer; its failure (no line, quota, a text the line cannot take) never undoes the change. */
  private answer(number: NumberRecord, contact: string, text: string): void {
    if (text === '') return;
    try {
      // A savepoint: a refused answer leaves nothing half-written in the receive transaction.
      this.deps.db.transaction(() => this.deps.autoReply(number, contact, text))();
    } catch (err) {
      this.log.warn({ numberId: number.id, code: (err as { code?: string }).code ?? 'UNKNOWN' }, 'opt-out auto-answer not sent');
    }
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
