/** What the PDU decoders return: one shape per TPDU type, told apart by `type`. */
import type { Address } from './address.ts';
import type { Alphabet, Dcs } from './dcs.ts';
import type { Timestamp } from './scts.ts';
import type { Concat, Ports, UdhElement } from './udh.ts';

/** Fields shared by TPDUs that carry user data. */
export interface DecodedUserData {
  /** The SMSC the PDU names; null when the field is empty or absent. */
  readonly smsc: Address | null;
  /** TPDU octets (the SMSC field excluded), as AT+CMGS and +CMT count them. */
  readonly tpduLength: number;
  readonly pid: number;
  readonly dcs: Dcs;
  readonly encoding: Alphabet;
  /** Null for 8-bit data and compressed text; see `data` and `unsupported`. */
  readonly text: string | null;
  readonly data: Uint8Array | null;
  /** Set when the payload is in a form the codec reports but does not decode. */
  readonly unsupported?: 'compressed';
  /** Every UDH element as sent, unknown ones included. */
  readonly udh: readonly UdhElement[];
  readonly concat: Concat | null;
  readonly ports: Ports | null;
  /** National language ids signalled in the UDH, when any. */
  readonly shift: { readonly locking: number; readonly single: number } | null;
}

export interface DecodedDeliver extends DecodedUserData {
  readonly type: 'deliver';
  readonly originator: Address;
  readonly timestamp: Timestamp;
  readonly moreMessagesToSend: boolean;
  readonly replyPath: boolean;
  readonly statusReportIndication: boolean;
}

export type Validity =
  | { readonly format: 'relative'; readonly minutes: number; readonly raw: number }
  | { readonly format: 'absolute'; readonly timestamp: Timestamp }
  | { readonly format: 'enhanced'; readonly raw: string };

export interface DecodedSubmit extends DecodedUserData {
  readonly type: 'submit';
  readonly messageRef: number;
  readonly recipient: Address;
  readonly validity: Validity | null;
  readonly statusReportRequested: boolean;
  readonly rejectDuplicates: boolean;
  readonly replyPath: boolean;
}

export type DeliveryOutcome = 'delivered' | 'pending' | 'failed';

export interface DeliveryStatus {
  /** TP-ST as sent. */
  readonly raw: number;
  /** delivered (transaction complete), pending (temporary error, still trying), failed. */
  readonly outcome: DeliveryOutcome;
  readonly description: string;
}

export interface DecodedStatusReport {
  readonly type: 'status-report';
  readonly smsc: Address | null;
  readonly tpduLength: number;
  /** TP-MR of the SUBMIT this reports on. */
  readonly messageRef: number;
  readonly recipient: Address;
  /** When the service centre received the SUBMIT. */
  readonly timestamp: Timestamp;
  /** When the final status was reached (or the last attempt, while pending). */
  readonly discharge: Timestamp;
  readonly status: DeliveryStatus;
  readonly moreMessagesToSend: boolean;
  /** Reports on an SMS-COMMAND rather than an SMS-SUBMIT (TP-SRQ). */
  readonly forCommand: boolean;
  readonly pid: number | null;
  readonly dcs: Dcs | null;
  readonly text: string | null;
}

export type DecodedPdu = DecodedDeliver | DecodedSubmit | DecodedStatusReport;
