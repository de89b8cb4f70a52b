/** The port the MMS services use to reach a line's MMSC, whichever way the line carries MMS. */
import type { MmsPdu, MmsStatus, SendConf } from './pdu/index.ts';

export interface MmsTransport {
  readonly kind: 'http' | 'at';
  /** Submits an m-send-req; resolves with the MMSC's m-send-conf (which may still say it refused). */
  send(req: MmsPdu): Promise<SendConf>;
  /** Fetches the message a notification points at (m-retrieve-conf). */
  retrieve(contentLocation: string): Promise<MmsPdu>;
  /** Tells the MMSC what became of a notification (m-notifyresp-ind). */
  notifyResponse(transactionId: string, status: MmsStatus): Promise<void>;
}
