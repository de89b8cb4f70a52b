import { HOP_LENGTH, N_FRAMES, SAMPLE_RATE_HZ } from './features.ts';
import type { WindowWord } from './words.ts';

/*
 * Long-form transcription as the reference transcribe.py does it, over any window decoder:
 * windows of up to 30 s start where the previous one's last complete segment ended (its last
 * timestamp), each window is decoded with temperature fallback under the compression-ratio and
 * log-probability checks, windows the model calls silent are skipped whole, and the text so far
 * is the next window's prompt (condition_on_previous_text) until a hot temperature was needed.
 * Pure: the decoder is a callback, so the seeking is tested with scripted windows.
 */

/** Mel frames per second (hop 160 at 16 kHz); `seek` values count these. */
export const FRAMES_PER_SECOND = SAMPLE_RATE_HZ / HOP_LENGTH;
/** Mel frames per timestamp step (0.02 s). */
const FRAMES_PER_TIMESTAMP = 2;
export const TIME_PRECISION_S = FRAMES_PER_TIMESTAMP / FRAMES_PER_SECOND;

/** One token span of a window that becomes a segment (positions in the window's tokens). */
export interface Slice {
  from: number;
  to: number;
  /** Timestamp steps (0.02 s) from the window start. */
  startPos: number;
  /** null: the span has no closing timestamp and runs to the window's end. */
  endPos: number | null;
}

/** How a window's tokens split into segments and where the next window starts. */
export interface WindowSlices {
  slices: Slice[];
  /** Ends on a lone timestamp: nothing unfinished, the next window starts after this one. */
  singleEnding: boolean;
  /** Timestamp steps to advance; null: the whole window. */
  advancePos: number | null;
}

/**
 * Splits a window's tokens (timestamps included, end-of-text excluded) where two timestamps
 * follow each other, as the reference does; an unfinished last segment is left for the next window.
 */
export function sliceWindow(tokens: readonly number[], timestampBegin: number): WindowSlices {
  const isTs = tokens.map((t) => t >= timestampBegin);
  const n = tokens.length;
  const singleEnding = n >= 2 ? !isTs[n - 2] && isTs[n - 1] === true : n === 1 && isTs[0] === true;
  const consecutive: number[] = [];
  for (let i = 1; i < n; i++) if (isTs[i - 1] && isTs[i]) consecutive.push(i);
  const pos = (i: number) => (tokens[i] as number) - timestampBegin;
  if (consecutive.length > 0) {
    if (singleEnding) consecutive.push(n);
    const slices: Slice[] = [];
    let last = 0;
    for (const cur of consecutive) {
      slices.push({ from: last, to: cur, startPos: Math.max(0, pos(last)), endPos: Math.max(0, pos(cur - 1)) });
      last = cur;
    }
    return { slices, singleEnding, advancePos: singleEnding ? null : pos(last - 1) };
  }
  // No complete segment: one segment over the whole window, ending at its last timestamp if any.
  let lastStamp = -1;
  for (let i = 0; i < n; i++) if (isTs[i]) lastStamp = i;
  const endPos = lastStamp >= 0 && pos(lastStamp) > 0 ? pos(lastStamp) : null;
  return { slices: n > 0 ? [{ from: 0, to: n, startPos: 0, endPos }] : [], singleEnding, advancePos: null };
}

/** The text (and words, when asked for) of one slice, in the order sliceWindow gives them. */
export interface SlicePiece {
  /** Decoded text, untrimmed (a leading space where the tokens have one). */
  text: string;
  /** Words in seconds from the window start. */
  words?: WindowWord[];
}

/** One decode of one window at one temperature. */
export interface WindowDecode {
  language: string;
  /** Generated tokens, timestamps included, end-of-text excluded. */
  tokens: number[];
  /** Per slice of sliceWindow(tokens). */
  pieces: SlicePiece[];
  /** sum of token log-probs (end-of-text included) / (tokens + 1), as the reference. */
  avgLogprob: number;
  compressionRatio: number;
  noSpeechProb: number;
  temperature: number;
}

export interface WindowRequest {
  /** Window start, in mel frames. */
  seek: number;
  /** Frames of real audio in this window (≤ 3000). */
  segmentFrames: number;
  /** Previous-text tokens for <|startofprev|>. */
  prompt: number[];
  temperature: number;
}

/** The reference's thresholds; null turns a check off. */
export interface Thresholds {
  /** gzip ratio above this: too repetitive, decode again hotter. */
  compressionRatio: number | null;
  /** Average log-prob below this: decode again hotter. */
  logprob: number | null;
  /** No-speech probability above this, with a low log-prob too: the window is silence. */
  noSpeech: number | null;
}

export const REFERENCE_THRESHOLDS: Thresholds = { compressionRatio: 2.4, logprob: -1, noSpeech: 0.6 };
/** The reference's fallback temperatures. */
export const FALLBACK_TEMPERATURES = [0, 0.2, 0.4, 0.6, 0.8, 1];

export interface LongformOptions {
  /** Frames of audio (samples / 160). */
  totalFrames: number;
  temperatures: readonly number[];
  thresholds: Thresholds;
  /** Feed the text so far as the next window's prompt (the reference's default). */
  conditionOnPreviousText: boolean;
  /** Tokens of the caller's prompt, before the first window's text. */
  initialPrompt: readonly number[];
  timestampBegin: number;
}

export interface LongSegment {
  /** Window start in frames. */
  seek: number;
  startS: number;
  endS: number;
  /** Untrimmed. */
  text: string;
  tokens: number[];
  temperature: number;
  avgLogprob: number;
  compressionRatio: number;
  noSpeechProb: number;
  /** Absolute seconds. */
  words?: WindowWord[];
}

export interface LongformResult {
  segments: LongSegment[];
  language: string | null;
  /** Windows decoded (fallback decodes included). */
  decodes: number;
}

/** The reference's decode_with_fallback: hotter until the checks pass or a silent window is found. */
async function decodeWithFallback(request: Omit<WindowRequest, 'temperature'>, options: LongformOptions, decode: (r: WindowRequest) => Promise<WindowDecode>): Promise<{ result: WindowDecode; decodes: number }> {
  const { compressionRatio, logprob, noSpeech } = options.thresholds;
  let decodes = 0;
  let result: WindowDecode | undefined;
  for (const temperature of options.temperatures) {
    result = await decode({ ...request, temperature });
    decodes++;
    let fallback = (compressionRatio !== null && result.compressionRatio > compressionRatio) || (logprob !== null && result.avgLogprob < logprob);
    if (noSpeech !== null && logprob !== null && result.noSpeechProb > noSpeech && result.avgLogprob < logprob) fallback = false; // silence
    if (!fallback) break;
  }
  if (!result) throw new Error('no temperatures to decode with');
  return { result, decodes };
}

/** Transcribes `totalFrames` of audio window by window, seeking by the last timestamp. */
export async function transcribeLongform(options: LongformOptions, decode: (r: WindowRequest) => Promise<WindowDecode>): Promise<LongformResult> {
  const { totalFrames, thresholds } = options;
  const durationS = totalFrames / FRAMES_PER_SECOND;
  const allTokens: number[] = [...options.initialPrompt];
  let promptResetSince = 0;
  const segments: LongSegment[] = [];
  let language: string | null = null;
  let decodes = 0;
  for (let seek = 0; seek < totalFrames; ) {
    const segmentFrames = Math.min(N_FRAMES, totalFrames - seek);
    const timeOffset = seek / FRAMES_PER_SECOND;
    const fallback = await decodeWithFallback({ seek, segmentFrames, prompt: allTokens.slice(promptResetSince) }, options, decode);
    const r = fallback.result;
    decodes += fallback.decodes;
    language ??= r.language;
    if (thresholds.noSpeech !== null && r.noSpeechProb > thresholds.noSpeech && !(thresholds.logprob !== null && r.avgLogprob > thresholds.logprob)) {
      seek += segmentFrames; // silence: on to the next window, the prompt unchanged
      continue;
    }
    const split = sliceWindow(r.tokens, options.timestampBegin);
    split.slices.forEach((slice, i) => {
      const piece = r.pieces[i];
      // Times past the end of the audio (the padded tail of a last window) are cut to it.
      const startS = Math.min(durationS, timeOffset + slice.startPos * TIME_PRECISION_S);
      const endS = Math.min(durationS, timeOffset + (slice.endPos === null ? segmentFrames / FRAMES_PER_SECOND : slice.endPos * TIME_PRECISION_S));
      // An instantaneous segment or one without text is left out, its tokens too.
      if (!piece || piece.text.trim() === '' || endS <= startS) return;
      const tokens = r.tokens.slice(slice.from, slice.to);
      segments.push({
        seek,
        startS,
        endS,
        text: piece.text,
        tokens,
        temperature: r.temperature,
        avgLogprob: r.avgLogprob,
        compressionRatio: r.compressionRatio,
        noSpeechProb: r.noSpeechProb,
        ...(piece.words && { words: piece.words.map((w) => ({ word: w.word, startS: Math.min(endS, timeOffset + w.startS), endS: Math.min(endS, timeOffset + w.endS) })) }),
      });
      allTokens.push(...tokens);
    });
    // Seek to the last complete segment's end; a window that gave no usable timestamp is passed whole.
    const advance = split.advancePos === null ? segmentFrames : split.advancePos * FRAMES_PER_TIMESTAMP;
    seek += advance > 0 ? advance : segmentFrames;
    if (!options.conditionOnPreviousText || r.temperature > 0.5) promptResetSince = allTokens.length;
  }
  return { segments, language, decodes };
}
