/**
 * Orpheus audio tokens → SNAC codes. The LM writes SNAC codes as `<custom_token_N>` text
 * tokens: 7 per frame, position p in the frame carrying a code of its own 4096-entry block
 * (token id = AUDIO_TOKEN_BASE + p × 4096 + code). A frame maps onto SNAC's three codebooks as
 * 1 / 2 / 4 codes: [p0], [p1, p4], [p2, p3, p5, p6].
 */

/** Llama-3 vocabulary size: Orpheus's special tokens follow it. */
export const ORPHEUS_TOKENS = {
  beginOfText: 128000,
  endOfText: 128009,
  startOfSpeech: 128257,
  endOfSpeech: 128258,
  startOfHuman: 128259,
  endOfHuman: 128260,
  startOfAi: 128261,
  endOfAi: 128262,
  pad: 128263,
} as const;
/** `<custom_token_10>`: the first audio token. */
export const AUDIO_TOKEN_BASE = 128266;
export const CODEBOOK_SIZE = 4096;
export const TOKENS_PER_FRAME = 7;
/** Frames decoded together per streaming step, and the newest one's share of the output. */
export const WINDOW_FRAMES = 4;
/** SNAC 24 kHz: samples per frame (hop 512 × coarsest stride 4). */
export const SAMPLES_PER_FRAME = 2048;
export const SAMPLE_RATE_HZ = 24_000;

/**
 * The SNAC code a token carries at frame position `index % 7`, or undefined when it is not an
 * audio token for that position (the reference skips those without advancing the position).
 * Unlike the reference (`code > 0`), code 0 is accepted: it is a valid codebook entry.
 */
export function tokenToCode(tokenId: number, index: number): number | undefined {
  const code = tokenId - AUDIO_TOKEN_BASE - (index % TOKENS_PER_FRAME) * CODEBOOK_SIZE;
  return code >= 0 && code < CODEBOOK_SIZE ? code : undefined;
}

/** The token id that carries `code` at frame position `index % 7` (the inverse of tokenToCode). */
export function codeToToken(code: number, index: number): number {
  return AUDIO_TOKEN_BASE + (index % TOKENS_PER_FRAME) * CODEBOOK_SIZE + code;
}

/** SNAC decoder inputs for whole frames (codes.length a multiple of 7). */
export interface SnacCodes {
  frames: number;
  codes0: BigInt64Array;
  codes1: BigInt64Array;
  codes2: BigInt64Array;
}

export function framesToSnac(codes: ArrayLike<number>, from = 0, frames = Math.floor((codes.length - from) / TOKENS_PER_FRAME)): SnacCodes {
  const codes0 = new BigInt64Array(frames);
  const codes1 = new BigInt64Array(frames * 2);
  const codes2 = new BigInt64Array(frames * 4);
  for (let f = 0; f < frames; f++) {
    const i = from + f * TOKENS_PER_FRAME;
    codes0[f] = BigInt(codes[i] as number);
    codes1[2 * f] = BigInt(codes[i + 1] as number);
    codes1[2 * f + 1] = BigInt(codes[i + 4] as number);
    codes2[4 * f] = BigInt(codes[i + 2] as number);
    codes2[4 * f + 1] = BigInt(codes[i + 3] as number);
    codes2[4 * f + 2] = BigInt(codes[i + 5] as number);
    codes2[4 * f + 3] = BigInt(codes[i + 6] as number);
  }
  return { frames, codes0, codes1, codes2 };
}

/** What to decode and which samples of the decoded audio to keep. */
export interface DecodeStep {
  snac: SnacCodes;
  /** Keep decoded samples [keepFrom, keepTo). */
  keepFrom: number;
  keepTo: number;
}

/**
 * The reference's streaming window: once 28 codes (4 frames) are in, every completed frame
 * decodes the last 4 frames and keeps the second one's 2048 samples, so each frame is decoded
 * with one frame of left and two of right context and output starts after the 4th frame
 * whatever the text length. Two additions make the audio complete where the reference drops
 * it: the first window also keeps frame 0 (samples 0–2048, no left context needed at the
 * start), and `finish()` decodes the last two frames (or all of a clip under 4 frames).
 */
export class SnacStreamWindow {
  private readonly codes: number[] = [];
  private position = 0;
  private emittedFrames = 0;

  /** Feeds one generated token; returns a decode step when it completes a window. */
  push(tokenId: number): DecodeStep | undefined {
    const code = tokenToCode(tokenId, this.position);
    if (code === undefined) return undefined;
    this.codes.push(code);
    this.position++;
    if (this.position % TOKENS_PER_FRAME !== 0 || this.position < WINDOW_FRAMES * TOKENS_PER_FRAME) return undefined;
    const frames = this.position / TOKENS_PER_FRAME;
    const first = this.emittedFrames === 0;
    this.emittedFrames = frames - 2;
    return {
      snac: framesToSnac(this.codes, this.position - WINDOW_FRAMES * TOKENS_PER_FRAME, WINDOW_FRAMES),
      keepFrom: first ? 0 : SAMPLES_PER_FRAME,
      keepTo: 2 * SAMPLES_PER_FRAME,
    };
  }

  /** Frames received so far. */
  get frames(): number {
    return Math.floor(this.position / TOKENS_PER_FRAME);
  }

  /** The decode step for the frames no window has emitted (the tail), if any. */
  finish(): DecodeStep | undefined {
    const frames = this.frames;
    if (frames === 0) return undefined;
    if (frames < WINDOW_FRAMES) {
      return { snac: framesToSnac(this.codes, 0, frames), keepFrom: 0, keepTo: frames * SAMPLES_PER_FRAME };
    }
    const start = frames - WINDOW_FRAMES;
    // Window frames start..start+3; frames up to start+1 are out already.
    return {
      snac: framesToSnac(this.codes, start * TOKENS_PER_FRAME, WINDOW_FRAMES),
      keepFrom: (this.emittedFrames - start) * SAMPLES_PER_FRAME,
      keepTo: WINDOW_FRAMES * SAMPLES_PER_FRAME,
    };
  }
}
