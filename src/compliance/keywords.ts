/** What an inbound keyword asks for. */
export type KeywordKind = 'opt_out' | 'opt_in' | 'help';

export interface KeywordMatch {
  kind: KeywordKind;
  /** The keyword as configured (upper case). */
  keyword: string;
}

/** Upper-case keyword sets of one number. */
export interface KeywordSets {
  optOut: ReadonlySet<string>;
  optIn: ReadonlySet<string>;
  help: ReadonlySet<string>;
}

/** Longer messages are never a keyword; bounds the work done on hostile input. */
const MAX_MESSAGE_CHARS = 64;
/** Whitespace of any script, and format characters a keyboard slips in (zero-width space, BOM). */
const LEADING = /^[\s\p{Z}\p{Cf}]+/u;
/** The same, plus punctuation: "Stop." and "STOP!!" are STOP, as carriers read them. */
const TRAILING = /[\s\p{Z}\p{Cf}\p{P}]+$/u;
const INNER_SPACE = /[\s\p{Z}]/u;

/**
 * The message as a keyword candidate: NFKC (full-width letters become ASCII), edges trimmed,
 * upper case; null when it cannot be one keyword (empty, too long, or several words).
 */
export function keywordCandidate(body: string): string | null {
  if (body.length > MAX_MESSAGE_CHARS) return null;
  const word = body.normalize('NFKC').replace(LEADING, '').replace(TRAILING, '').toUpperCase();
  return word === '' || INNER_SPACE.test(word) ? null : word;
}

/** Which keyword the whole message is, if any. Opt-out wins when a word is in two sets. */
export function matchKeyword(body: string, sets: KeywordSets): KeywordMatch | null {
  const word = keywordCandidate(body);
  if (word === null) return null;
  if (sets.optOut.has(word)) return { kind: 'opt_out', keyword: word };
  if (sets.optIn.has(word)) return { kind: 'opt_in', keyword: word };
  if (sets.help.has(word)) return { kind: 'help', keyword: word };
  return null;
}
