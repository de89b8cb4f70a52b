import { ORPHEUS_TOKENS } from './snac-codes.ts';

/** What the TTS prompt needs of a tokenizer: text → ids, with the model's BOS where it adds one. */
export interface TextEncoder {
  encode(text: string): number[];
}

/**
 * The Orpheus fine-tuned prompt: start-of-human, the tokenized `<voice>: <text>` (BOS first, as
 * the Llama-3 tokenizer writes it), end-of-text, end-of-human, start-of-AI, start-of-speech.
 * Emotion tags such as `<laugh>` stay in the text: the tokenizer spells them out as the model
 * saw them in training.
 */
export function orpheusPrompt(tokenizer: TextEncoder, promptName: string, text: string): number[] {
  return [
    ORPHEUS_TOKENS.startOfHuman,
    ...tokenizer.encode(`${promptName}: ${text}`),
    ORPHEUS_TOKENS.endOfText,
    ORPHEUS_TOKENS.endOfHuman,
    ORPHEUS_TOKENS.startOfAi,
    ORPHEUS_TOKENS.startOfSpeech,
  ];
}

const SENTENCE_END = /([.!?。！？…]+["'”’)\]]*)(\s+|$)/gu;

/**
 * Splits text at sentence ends so each generation stays short (Orpheus drifts on long inputs)
 * and the first audio comes after the first sentence, not the whole text. Sentences shorter than
 * `minChars` are joined to the next; a sentence longer than `maxChars` is cut at the last comma
 * or space before the limit.
 */
export function splitSentences(text: string, maxChars = 300, minChars = 20): string[] {
  const raw: string[] = [];
  let last = 0;
  for (const m of text.matchAll(SENTENCE_END)) {
    const end = (m.index ?? 0) + (m[1] as string).length;
    raw.push(text.slice(last, end).trim());
    last = end;
  }
  raw.push(text.slice(last).trim());
  const joined: string[] = [];
  let carry = '';
  for (const s of raw) {
    if (!s) continue;
    carry = carry ? `${carry} ${s}` : s;
    if (carry.length >= minChars) {
      joined.push(carry);
      carry = '';
    }
  }
  if (carry) {
    if (joined.length > 0 && carry.length < minChars) joined[joined.length - 1] += ` ${carry}`;
    else joined.push(carry);
  }
  return joined.flatMap((s) => cut(s, maxChars));
}

function cut(sentence: string, maxChars: number): string[] {
  const out: string[] = [];
  let rest = sentence;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    let at = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '));
    if (at < maxChars / 3) at = window.lastIndexOf(' ');
    if (at < 1) at = maxChars;
    out.push(rest.slice(0, at + (rest[at] === ',' || rest[at] === ';' ? 1 : 0)).trim());
    rest = rest.slice(at + 1).trim();
  }
  if (rest) out.push(rest);
  return out;
}
