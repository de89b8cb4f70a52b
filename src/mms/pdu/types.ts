/** What the MMS encapsulation codec reads and writes (OMA-TS-MMS_ENC 1.2/1.3). */
import type { ContentType } from './wsp.ts';

export type MmsMessageType =
  | 'm-send-req'
  | 'm-send-conf'
  | 'm-notification-ind'
  | 'm-notifyresp-ind'
  | 'm-retrieve-conf'
  | 'm-acknowledge-ind'
  | 'm-delivery-ind'
  | 'm-read-rec-ind'
  | 'm-read-orig-ind'
  | 'm-forward-req'
  | 'm-forward-conf';

/** X-Mms-Status values (m-notifyresp-ind, m-delivery-ind). */
export type MmsStatus = 'expired' | 'retrieved' | 'rejected' | 'deferred' | 'unrecognised' | 'indeterminate' | 'forwarded' | 'unreachable';

export interface MmsPart {
  /** Lower-case media type, e.g. "image/jpeg", "application/smil". */
  contentType: string;
  /** Charset name for text parts ("utf-8"). */
  charset?: string;
  /** A file name from the Content-Type name, Content-Disposition filename or Content-Location. */
  name?: string;
  /** Content-ID without the angle brackets. */
  contentId?: string;
  contentLocation?: string;
  data: Uint8Array;
}

/** Every header the codec knows, flat; which ones a PDU carries depends on its type. */
export interface MmsPdu {
  type: MmsMessageType;
  transactionId?: string;
  /** "1.2", "1.3", … */
  version: string;
  messageId?: string;
  /** Seconds resolution. */
  date?: Date;
  /** The sender address; null is the insert-address token (the MMSC fills in the sender). */
  from?: string | null;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string;
  /** personal | advertisement | informational | auto, or a token the sender made up. */
  messageClass?: string;
  priority?: 'low' | 'normal' | 'high';
  expiry?: { absolute: Date } | { relativeSeconds: number };
  deliveryReport?: boolean;
  readReport?: boolean;
  reportAllowed?: boolean;
  senderVisibility?: 'hide' | 'show';
  messageSize?: number;
  contentLocation?: string;
  /** X-Mms-Response-Status as its octet value: 128 ok, 192–223 transient, 224–255 permanent errors. */
  responseStatus?: number;
  responseText?: string;
  status?: MmsStatus;
  retrieveStatus?: number;
  retrieveText?: string;
  contentType?: ContentType;
  /** Body parts of a multipart m-send-req / m-retrieve-conf. */
  parts?: MmsPart[];
  /** A non-multipart body, as is. */
  body?: Uint8Array;
}
