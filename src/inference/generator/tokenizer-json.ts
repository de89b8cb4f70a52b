/*
 * A small but real byte-level BPE tokenizer.json with Whisper's special-token layout: base
 * vocabulary up to 50256, <|endoftext|> at 50257, then <|startoftranscript|>, the language
 * tokens, task tokens, <|notimestamps|> and the 1501 timestamp tokens.
 */

export const WHISPER_LANGUAGES = [
  'en', 'zh', 'de', 'es', 'ru', 'ko', 'fr', 'ja', 'pt', 'tr', 'pl', 'ca', 'nl', 'ar', 'sv', 'it', 'id', 'hi', 'fi', 'vi',
  'he', 'uk', 'el', 'ms', 'cs', 'ro', 'da', 'hu', 'ta', 'no', 'th', 'ur', 'hr', 'bg', 'lt', 'la', 'mi', 'ml', 'cy', 'sk',
  'te', 'fa', 'lv', 'bn', 'sr', 'az', 'sl', 'kn', 'et', 'mk', 'br', 'eu', 'is', 'hy', 'ne', 'mn', 'bs', 'kk', 'sq', 'sw',
  'gl', 'mr', 'pa', 'si', 'km', 'sn', 'yo', 'so', 'af', 'oc', 'ka', 'be', 'tg', 'sd', 'gu', 'am', 'yi', 'lo', 'uz', 'fo',
  'ht', 'ps', 'tk', 'nn', 'mt', 'sa', 'lb', 'my', 'bo', 'tl', 'mg', 'as', 'tt', 'haw', 'ln', 'ha', 'ba', 'jw', 'su', 'yue',
] as const;

/** GPT-2's byte → printable character map used by byte-level BPE. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map: string[] = new Array(256);
  bs.forEach((b, i) => (map[b] = String.fromCodePoint(cs[i] as number)));
  return map;
}

const WORDS = ['the', 'and', 'to', 'of', 'a', 'in', 'is', 'you', 'that', 'it', 'he', 'was', 'for', 'on', 'are', 'as', 'with', 'his', 'they', 'at', 'be', 'this', 'have', 'from', 'or', 'one', 'had', 'by', 'word', 'but', 'not', 'what', 'all', 'were', 'we', 'when', 'your', 'can', 'said', 'there', 'hello', 'how', 'help', 'today', 'phone', 'call', 'agent', 'message'];

export interface WhisperTokenLayout {
  languages: readonly string[];
  vocabSize: number;
  eot: number;
  sot: number;
  translate: number;
  transcribe: number;
  startOfLm: number;
  startOfPrev: number;
  noSpeech: number;
  noTimestamps: number;
  timestampBegin: number;
}

/** Token ids for a Whisper vocabulary of 51866 (large-v3: 100 languages) or 51865 (99). */
export function whisperTokenLayout(vocabSize: number): WhisperTokenLayout {
  const languages = vocabSize >= 51866 ? WHISPER_LANGUAGES : WHISPER_LANGUAGES.slice(0, 99);
  const translate = 50259 + languages.length;
  return {
    languages,
    vocabSize,
    eot: 50257,
    sot: 50258,
    translate,
    transcribe: translate + 1,
    startOfLm: translate + 2,
    startOfPrev: translate + 3,
    noSpeech: translate + 4,
    noTimestamps: translate + 5,
    timestampBegin: translate + 6,
  };
}

export function whisperTokenizerJson(vocabSize: number): { tokenizer: object; tokenizerConfig: object; layout: WhisperTokenLayout } {
  const layout = whisperTokenLayout(vocabSize);
  const byteChars = bytesToUnicode();
  const vocab = new Map<string, number>();
  const add = (t: string) => {
    if (!vocab.has(t)) vocab.set(t, vocab.size);
  };
  for (const ch of [...byteChars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)) add(ch);
  const merges: string[] = [];
  const space = byteChars[0x20] as string;
  for (const w of WORDS) {
    for (const word of [w, space + w]) {
      let cur = word[0] as string;
      for (const ch of word.slice(1)) {
        const merged = cur + ch;
        if (!vocab.has(merged)) {
          merges.push(`${cur} ${ch}`);
          add(merged);
        }
        cur = merged;
      }
    }
  }
  // Fill the rest of the base vocabulary with decodable pseudo-words.
  const cons = 'bcdfghjklmnprstvwz';
  const vow = 'aeiou';
  for (let i = 0; vocab.size < layout.eot; i++) {
    const syl = (k: number) => `${cons[k % cons.length]}${vow[Math.floor(k / cons.length) % vow.length]}`;
    add(`${space}${syl(i)}${syl(Math.floor(i / 90))}${i >= 8100 ? syl(Math.floor(i / 8100)) : ''}`);
  }
  const added: Array<{ id: number; content: string }> = [{ id: layout.eot, content: '<|endoftext|>' }, { id: layout.sot, content: '<|startoftranscript|>' }];
  layout.languages.forEach((l, i) => added.push({ id: 50259 + i, content: `<|${l}|>` }));
  added.push(
    { id: layout.translate, content: '<|translate|>' },
    { id: layout.transcribe, content: '<|transcribe|>' },
    { id: layout.startOfLm, content: '<|startoflm|>' },
    { id: layout.startOfPrev, content: '<|startofprev|>' },
    { id: layout.noSpeech, content: vocabSize >= 51866 ? '<|nospeech|>' : '<|nocaptions|>' },
    { id: layout.noTimestamps, content: '<|notimestamps|>' },
  );
  for (let i = 0; i <= 1500; i++) added.push({ id: layout.timestampBegin + i, content: `<|${(i * 0.02).toFixed(2)}|>` });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'WhisperTokenizer',
    model_max_length: 1024,
    add_prefix_space: false,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    errors: 'replace',
  };
  return { tokenizer, tokenizerConfig, layout };
}
