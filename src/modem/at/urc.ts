/** Unsolicited result codes, parsed into typed events. */
export type Urc =
  | { type: 'new-message'; storage: string; index: number } // +CMTI
  | { type: 'message'; pdu: string; length: number } // +CMT (direct delivery)
  | { type: 'status-report'; pdu: string; length: number } // +CDS
  | { type: 'new-status-report'; storage: string; index: number } // +CDSI
  | { type: 'ring' }
  | { type: 'caller-id'; number: string } // +CLIP
  | { type: 'signal'; rssi: number } // ^RSSI
  /** +CREG (circuit switched), +CGREG (packet), +CEREG (EPS/LTE): `<stat>[,<lac>,<ci>[,<AcT>]]`. */
  | { type: 'registration'; domain: RegistrationDomain; stat: number }
  | { type: 'sim'; state: string } // +CPIN, ^SIMST
  | { type: 'storage-full'; storage?: string } // ^SMMEMFULL, +QIND "smsfull", +CIEV
  | { type: 'boot'; raw: string } // ^BOOT, RDY, +CFUN
  | { type: 'vendor'; raw: string } // anything else we recognise as unsolicited
  /** A URC we know whose parameters do not parse (a storage index that is no number): ignored, never acted on. */
  | { type: 'malformed'; head: string; reason: string };

export type RegistrationDomain = 'cs' | 'ps' | 'eps';

const REGISTRATION_DOMAINS: Record<string, RegistrationDomain> = { '+CREG': 'cs', '+CGREG': 'ps', '+CEREG': 'eps' };

/** URCs whose PDU comes on the next line. */
export const TWO_LINE_URCS = ['+CMT:', '+CDS:'] as const;

const URC_PREFIXES = [
  '+CMTI:', '+CMT:', '+CDS:', '+CDSI:', 'RING', '+CLIP:', '^RSSI:', '^HCSQ:', '^BOOT:', '^MODE:', '^SRVST:',
  '^SIMST:', '^SMMEMFULL', '^STIN:', '^SYSSTART', '^CEND:', '^ORIG:', '^CONF:', '+QIND:', '+QUSIM:', '+CREG:', '+CEREG:', '+CGREG:',
  '+CPIN:', '+CIEV:', '+CFUN:', 'RDY', 'SMS DONE', 'PB DONE', 'SMS READY', 'CALL READY', '+CUSD:', '+CSQN:', '#QSS:',
  '+PACSP', 'NO CARRIER', '+CGEV:', '+CRING:',
  // The modem's own MMS client reports the end of a send this way (Quectel, SIMCom).
  '+QMMSEND:', '+CMMSSEND:',
];

export function looksUnsolicited(line: string): boolean {
  const upper = line.toUpperCase();
  return URC_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

function unquote(value: string | undefined): string {
  return (value ?? '').trim().replace(/^"(.*)"$/, '$1');
}

/** Splits AT parameters on commas outside quotes. */
export function splitParams(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

/** A message storage index as 27.005 writes it: decimal digits only, at most five of them. */
export function storageIndex(text: string | undefined): number | undefined {
  const value = (text ?? '').trim();
  return /^\d{1,5}$/.test(value) ? Number(value) : undefined;
}

/** Parses a one-line URC (two-line URCs are assembled by the channel). */
export function parseUrc(line: string, pdu?: string): Urc {
  const colon = line.indexOf(':');
  const head = (colon < 0 ? line : line.slice(0, colon)).trim().toUpperCase();
  const params = colon < 0 ? [] : splitParams(line.slice(colon + 1));
  switch (head) {
    case '+CMTI':
    case '+CDSI': {
      // An index that is not a plain decimal would become AT+CMGR=NaN (or read some other slot).
      const index = storageIndex(params[1]);
      if (index === undefined) return { type: 'malformed', head, reason: 'storage index is not a non-negative integer' };
      return { type: head === '+CMTI' ? 'new-message' : 'new-status-report', storage: unquote(params[0]), index };
    }
    case '+CMT':
      return { type: 'message', pdu: pdu ?? '', length: Number(params[params.length - 1]) };
    case '+CDS':
      return { type: 'status-report', pdu: pdu ?? '', length: Number(params[params.length - 1]) };
    case 'RING':
    case '+CRING':
      return { type: 'ring' };
    case '+CLIP':
      return { type: 'caller-id', number: unquote(params[0]) };
    case '^RSSI':
      return { type: 'signal', rssi: Number(params[0]) };
    case '+CREG':
    case '+CEREG':
    case '+CGREG': {
      // The URC carries <stat> first; a stat that is no number must not read as "not registered".
      const stat = /^\d$/.test(params[0] ?? '') ? Number(params[0]) : undefined;
      if (stat === undefined) return { type: 'malformed', head, reason: 'registration status is not a number' };
      return { type: 'registration', domain: REGISTRATION_DOMAINS[head]!, stat };
    }
    case '+CPIN':
      return { type: 'sim', state: unquote(params[0]) };
    case '^SIMST':
      return { type: 'sim', state: params[0] === '1' ? 'READY' : `SIMST ${params[0] ?? ''}` };
    case '^SMMEMFULL':
      return { type: 'storage-full', storage: unquote(params[0]) || undefined };
    case '+QIND':
      if (/smsfull/i.test(line)) return { type: 'storage-full', storage: unquote(params[1]) || undefined };
      return { type: 'vendor', raw: line };
    case '+CIEV':
      if (/smsfull|"?memfull/i.test(line)) return { type: 'storage-full' };
      return { type: 'vendor', raw: line };
    case '^BOOT':
    case '^SYSSTART':
    case 'RDY':
    case '+CFUN':
      return { type: 'boot', raw: line };
    default:
      return { type: 'vendor', raw: line };
  }
}
