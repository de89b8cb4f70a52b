/**
 * Word timestamps from the decoder's own timestamp predictions. At every text token the model
 * also scores Whisper's timestamp tokens; where it is confident about one (as whisper.cpp's
 * token-level timestamps use it), that time anchors the word the token starts. Words between
 * anchors share the time in proportion to their length, and every word stays inside its
 * segment, in order. Cheaper than cross-attention alignment (which needs attention outputs the
 * standard ONNX exports do not have), and coarser: good to a few hundred milliseconds.
 */

/** What the timestamp tokens said at one decoding step. */
export interface TokenTime {
  /** Seconds from the window start of the most probable timestamp token. */
  t: number;
  /** Its probability among the whole vocabulary. */
  p: number;
}

export interface WindowWord {
  word: string;
  startS: number;
  endS: number;
}

/** A timestamp this probable anchors its word (whisper.cpp's token-timestamp threshold). */
const CONFIDENT = 0.01;
/** Languages written without spaces: every character (unicode unit) is a word. */
const UNSPACED = new Set(['zh', 'ja', 'th', 'lo', 'my', 'yue']);

interface Unit {
  text: string;
  /** Positions in the segment's token list. */
  at: number[];
}

/**
 * Words of one segment. `tokens` are the segment's tokens (text and timestamps), `times` the
 * timestamp reading taken when each was chosen (same positions), `isText` says which are text.
 */
export function segmentWords(
  tokens: readonly number[],
  times: readonly (TokenTime | undefined)[],
  isText: (token: number) => boolean,
  segment: { startS: number; endS: number },
  decode: (ids: number[]) => string,
  language: string,
): WindowWord[] {
  const units = unicodeUnits(tokens, isText, decode);
  const words = UNSPACED.has(language) ? units : joinSubwords(units);
  if (words.length === 0) return [];
  const { startS, endS } = segment;
  // Anchors: confident, inside the segment, and later than the previous one.
  const starts: (number | undefined)[] = words.map(() => undefined);
  let floor = startS;
  words.forEach((w, i) => {
    const reading = times[w.at[0] as number];
    if (i === 0 || !reading || reading.p < CONFIDENT || reading.t <= floor || reading.t >= endS) return;
    starts[i] = reading.t;
    floor = reading.t;
  });
  starts[0] = startS;
  // The rest in proportion to their length between the anchors around them.
  const weight = words.map((w) => Math.max(1, w.text.trim().length));
  for (let i = 0; i < words.length; ) {
    let j = i + 1;
    while (j < words.length && starts[j] === undefined) j++;
    const from = starts[i] as number;
    const to = j < words.length ? (starts[j] as number) : endS;
    const total = weight.slice(i, j).reduce((a, b) => a + b, 0);
    let acc = 0;
    for (let k = i + 1; k < j; k++) {
      acc += weight[k - 1] as number;
      starts[k] = from + ((to - from) * acc) / total;
    }
    i = j;
  }
  return words.map((w, i) => ({ word: w.text.trim(), startS: starts[i] as number, endS: i + 1 < words.length ? (starts[i + 1] as number) : endS }));
}

/** Text tokens grouped so each group decodes to whole characters (a CJK character may take several tokens). */
function unicodeUnits(tokens: readonly number[], isText: (token: number) => boolean, decode: (ids: number[]) => string): Unit[] {
  const units: Unit[] = [];
  let at: number[] = [];
  tokens.forEach((token, i) => {
    if (!isText(token)) return;
    at.push(i);
    const text = decode(at.map((k) => tokens[k] as number));
    if (text.includes('\ufffd')) return;
    units.push({ text, at });
    at = [];
  });
  if (at.length > 0) units.push({ text: decode(at.map((k) => tokens[k] as number)), at });
  return units.filter((u) => u.text.trim() !== '');
}

/** A unit that starts with a space starts a word; the others (and punctuation) continue the one before. */
function joinSubwords(units: Unit[]): Unit[] {
  const words: Unit[] = [];
  for (const unit of units) {
    const punctuation = /^[\p{P}\p{S}]+$/u.test(unit.text.trim());
    const last = words[words.length - 1];
    if (last && (punctuation || !unit.text.startsWith(' '))) {
      last.text += unit.text;
      last.at.push(...unit.at);
    } else words.push({ text: unit.text, at: [...unit.at] });
  }
  return words;
}
