import type { Kysely } from 'kysely';
import type { NumberRecord } from '../store/index.ts';
import type { Database } from '../store/sql/database.ts';

export interface SubmitHooks {
  /**
   * Called right before the PDU goes to the modem (AT+CMGS), after it waited its turn on the
   * line; it must record that durably before it resolves. If it rejects, the PDU is not sent.
   */
  onSubmitting?: () => Promise<void>;
}

/** The messaging domain's view of the modem pool: it sends PDUs on lines. */
export interface SmsTransport {
  /**
   * Sends one SMS-SUBMIT on the line and resolves with the TP-MR the modem assigned.
   * Rejects with an AgentPhoneError whose `retryable` says whether trying again may help.
   */
  sendPdu(lineId: string, pdu: { hex: string; tpduLength: number }, hooks?: SubmitHooks): Promise<{ messageRef: number }>;
  /** Lines that can take a PDU now; parts for other lines wait in the store. */
  readyLines(): string[];
}

/** Wakes a background worker when there is new work for it (optionally, for which line). */
export interface Notifier {
  notify(lineId?: string): void;
}

/** The opt-out check every send from a number makes (compliance), on the send's transaction; rejects with ContactOptedOutError. */
export interface OptOutCheck {
  assertAllowed(tx: Kysely<Database>, number: NumberRecord, contact: string): Promise<void>;
}
