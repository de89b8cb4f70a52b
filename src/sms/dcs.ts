/** TP-DCS, data coding scheme (3GPP TS 23.038 §4), every coding group. */

export type Alphabet = 'gsm7' | '8bit' | 'ucs2';
export type MessageClass = 0 | 1 | 2 | 3;

export interface MessageWaiting {
  readonly active: boolean;
  readonly kind: 'voicemail' | 'fax' | 'email' | 'other';
  /** False for the "discard message" group: the indication matters, the text does not. */
  readonly store: boolean;
}

export interface Dcs {
  readonly raw: number;
  readonly alphabet: Alphabet;
  /** 0 is a flash (immediate display) message; null when no class is given. */
  readonly messageClass: MessageClass | null;
  /** Compressed text (TS 23.042) is recognised but not decoded. */
  readonly compressed: boolean;
  /** The "marked for automatic deletion" group. */
  readonly autoDelete: boolean;
  readonly waiting?: MessageWaiting;
}

const ALPHABETS: readonly Alphabet[] = ['gsm7', '8bit', 'ucs2', 'gsm7'];
const WAITING_KINDS: readonly MessageWaiting['kind'][] = ['voicemail', 'fax', 'email', 'other'];

export function decodeDcs(raw: number): Dcs {
  const group = raw >> 4;
  if (group < 0x8) {
    return {
      raw,
      alphabet: ALPHABETS[(raw >> 2) & 0x03] as Alphabet,
      messageClass: raw & 0x10 ? ((raw & 0x03) as MessageClass) : null,
      compressed: (raw & 0x20) !== 0,
      autoDelete: (raw & 0x40) !== 0,
    };
  }
  if (group >= 0xc && group <= 0xe) {
    return {
      raw,
      alphabet: group === 0xe ? 'ucs2' : 'gsm7',
      messageClass: null,
      compressed: false,
      autoDelete: false,
      waiting: { active: (raw & 0x08) !== 0, kind: WAITING_KINDS[raw & 0x03] as MessageWaiting['kind'], store: group !== 0xc },
    };
  }
  if (group === 0xf) {
    return {
      raw,
      alphabet: raw & 0x04 ? '8bit' : 'gsm7',
      messageClass: (raw & 0x03) as MessageClass,
      compressed: false,
      autoDelete: false,
    };
  }
  // 1000–1011 are reserved groups, read as the default alphabet (TS 23.038 §4).
  return { raw, alphabet: 'gsm7', messageClass: null, compressed: false, autoDelete: false };
}

/** General data coding group: uncompressed, with the class bits only when a class is given. */
export function encodeDcs(alphabet: Alphabet, messageClass: MessageClass | null = null): number {
  const a = alphabet === 'gsm7' ? 0 : alphabet === '8bit' ? 0x04 : 0x08;
  return messageClass === null ? a : a | 0x10 | messageClass;
}
