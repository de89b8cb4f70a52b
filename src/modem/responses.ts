import { splitParams, storageIndex } from './at/urc.ts';

/** Pure parsers for AT response lines. */

export type Registration = 'home' | 'roaming' | 'searching' | 'denied' | 'not-registered' | 'unknown';

/** The value after `+NAME:` in the first line that has it, else the first plain line. */
export function valueOf(lines: readonly string[], prefix?: string): string | undefined {
  if (prefix) {
    const hit = lines.find((l) => l.toUpperCase().startsWith(prefix.toUpperCase()));
    if (hit) return hit.slice(prefix.length).trim();
  }
  const plain = lines.find((l) => !/^[+^#!$][A-Z]+:/i.test(l));
  return plain?.trim() ?? lines[0]?.replace(/^[+^#!$]?[A-Z]+:\s*/i, '').trim();
}

export function unquote(value: string | undefined): string {
  return (value ?? '').trim().replace(/^"(.*)"$/, '$1');
}

/** `+CSQ: 21,99` → rssi 21 (0–31, 99 = unknown) and dBm. */
export function parseCsq(lines: readonly string[]): { rssi: number | undefined; signalDbm: number | undefined } {
  const value = valueOf(lines, '+CSQ:');
  const rssi = Number(splitParams(value ?? '')[0]);
  if (!Number.isInteger(rssi) || rssi === 99 || rssi < 0 || rssi > 31) return { rssi: undefined, signalDbm: undefined };
  return { rssi, signalDbm: -113 + 2 * rssi };
}

/**
 * `+CREG: 2,1,"00C3","0000B1A2",7` (answer to a query: <n>,<stat>,…) → registration. With
 * registration URCs on, a `+CREG: 1,"00C3",…` URC (<stat>,<lac>,…) can land among the answer's
 * lines: the answer is the line whose second parameter is a plain number.
 */
export function parseReg(lines: readonly string[], prefix: '+CREG:' | '+CEREG:' | '+CGREG:'): Registration {
  const candidates = lines.filter((l) => l.toUpperCase().startsWith(prefix)).map((l) => splitParams(l.slice(prefix.length)));
  const params = candidates.find((p) => /^\d+$/.test(p[1] ?? '')) ?? splitParams(valueOf(lines, prefix) ?? '');
  const stat = Number(params.length >= 2 ? params[1] : params[0]);
  return registrationOf(stat);
}

export function registrationOf(stat: number): Registration {
  switch (stat) {
    case 1:
      return 'home';
    case 5:
      return 'roaming';
    case 2:
      return 'searching';
    case 3:
      return 'denied';
    case 0:
      return 'not-registered';
    default:
      return 'unknown';
  }
}

export function isRegistered(registration: Registration): boolean {
  return registration === 'home' || registration === 'roaming';
}

/** `+COPS: 0,0,"Operator",7` → "Operator". */
export function parseCops(lines: readonly string[]): string | undefined {
  const params = splitParams(valueOf(lines, '+COPS:') ?? '');
  const name = unquote(params[2]);
  return name === '' ? undefined : name;
}

/** ICCID from AT+QCCID / +CICCID / ^ICCID? / #CCID / !ICCID? / +CRSM (EF_ICCID, nibble-swapped). */
export function parseIccid(command: string, lines: readonly string[]): string | undefined {
  const joined = lines.join(' ');
  if (/CRSM/i.test(command)) {
    const params = splitParams(valueOf(lines, '+CRSM:') ?? '');
    const hex = unquote(params[2]);
    if (!/^[0-9A-F]{20}$/i.test(hex)) return undefined;
    return swapNibbles(hex).replace(/F+$/i, '');
  }
  const match = /(\d{18,20}[0-9F]?)/i.exec(joined.replace(/"/g, ''));
  if (!match) return undefined;
  const digits = match[1]!.replace(/F$/i, '');
  // Some Huawei firmwares answer ^ICCID? in the raw nibble-swapped EF_ICCID order.
  return digits.startsWith('98') ? swapNibbles(digits.padEnd(20, 'F')).replace(/F+$/i, '') : digits;
}

function swapNibbles(hex: string): string {
  let out = '';
  for (let i = 0; i + 1 < hex.length; i += 2) out += hex[i + 1]! + hex[i]!;
  return out;
}

/** `+CNUM: "","+15551234567",145` → "+15551234567". */
export function parseCnum(lines: readonly string[]): string | undefined {
  const params = splitParams(valueOf(lines, '+CNUM:') ?? '');
  const number = unquote(params[1]);
  if (!number) return undefined;
  return params[2] === '145' && !number.startsWith('+') ? `+${number}` : number;
}

/** `+CMGS: 17` → 17. */
export function parseMr(lines: readonly string[]): number | undefined {
  const mr = Number(splitParams(valueOf(lines, '+CMGS:') ?? '')[0]);
  return Number.isInteger(mr) ? mr : undefined;
}

/** `+CPMS: "SM",30,30,...` (query) → used/total of the first storage. */
export function parseCpmsQuery(lines: readonly string[]): { used: number; total: number } | undefined {
  const params = splitParams(valueOf(lines, '+CPMS:') ?? '');
  const used = Number(params[1]);
  const total = Number(params[2]);
  return Number.isInteger(used) && Number.isInteger(total) ? { used, total } : undefined;
}

export interface StoredPdu {
  index: number | undefined;
  stat: number;
  pdu: string;
}

/** Pairs of `+CMGL: idx,stat,,len` / `+CMGR: stat,,len` headers with the PDU line after each. */
export function parseStoredPdus(lines: readonly string[], prefix: '+CMGL:' | '+CMGR:'): StoredPdu[] {
  const out: StoredPdu[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.toUpperCase().startsWith(prefix)) continue;
    const params = splitParams(line.slice(prefix.length));
    const pdu = lines[i + 1];
    if (pdu === undefined || !/^[0-9A-F]+$/i.test(pdu)) continue;
    i++;
    if (prefix === '+CMGL:') {
      // A listing entry whose index is no number cannot be read or deleted by index: skip it.
      const index = storageIndex(params[0]);
      if (index !== undefined) out.push({ index, stat: Number(params[1]), pdu: pdu.toUpperCase() });
    }
    else out.push({ index: undefined, stat: Number(params[0]), pdu: pdu.toUpperCase() });
  }
  return out;
}

/** TP-MTI of a PDU that starts with its SMSC field: deliver, submit or status report. */
export function pduKind(hex: string): 'deliver' | 'submit' | 'status-report' | 'unknown' {
  const smscLength = parseInt(hex.slice(0, 2), 16);
  const first = parseInt(hex.slice(2 + smscLength * 2, 4 + smscLength * 2), 16);
  if (Number.isNaN(smscLength) || Number.isNaN(first)) return 'unknown';
  switch (first & 0x03) {
    case 0:
      return 'deliver';
    case 1:
      return 'submit';
    case 2:
      return 'status-report';
    default:
      return 'unknown';
  }
}
