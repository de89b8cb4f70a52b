import { describe, expect, it } from 'vitest';
import {
  AUDIO_TOKEN_BASE,
  codeToToken,
  findVoice,
  framesToSnac,
  ORPHEUS_TOKENS,
  orpheusPrompt,
  SnacStreamWindow,
  splitSentences,
  tokenToCode,
  VOICES,
  wavFile,
  floatToPcm16,
} from '../../src/inference/runners/tts/index.ts';

/** The reference (orpheus_tts/decoder.py) id: int(N) - 10 - (index % 7) * 4096 for `<custom_token_N>` = 128256 + N. */
const customToken = (n: number) => 128256 + n;

describe('Orpheus audio tokens → SNAC codes', () => {
  it('maps <custom_token_N> at frame position p to N - 10 - p·4096, as the reference does', () => {
    // Hand-worked: <custom_token_10> at position 0 is code 0 (the reference drops it, see below);
    // <custom_token_4106> at position 1 is 4106 - 10 - 4096 = 0; <custom_token_24690> at position 6 is 24690 - 10 - 24576 = 104.
    expect(tokenToCode(customToken(10), 0)).toBe(0);
    expect(tokenToCode(customToken(4106), 1)).toBe(0);
    expect(tokenToCode(customToken(24690), 6)).toBe(104);
    expect(tokenToCode(customToken(24690), 13)).toBe(104); // index % 7
    expect(tokenToCode(customToken(4105 + 10), 0)).toBeUndefined(); // 4105 ≥ 4096: not position 0's block
    expect(tokenToCode(ORPHEUS_TOKENS.startOfSpeech, 0)).toBeUndefined(); // <custom_token_1>: 1 - 10 < 0
    expect(tokenToCode(ORPHEUS_TOKENS.endOfSpeech, 3)).toBeUndefined();
    expect(AUDIO_TOKEN_BASE).toBe(customToken(10));
    for (let p = 0; p < 14; p++) for (const code of [0, 1, 2048, 4095]) expect(tokenToCode(codeToToken(code, p), p)).toBe(code);
  });

  it('spreads a frame over codebooks 1/2/4 as [p0], [p1, p4], [p2, p3, p5, p6]', () => {
    const codes = [10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26];
    const snac = framesToSnac(codes);
    expect(snac.frames).toBe(2);
    expect([...snac.codes0].map(Number)).toEqual([10, 20]);
    expect([...snac.codes1].map(Number)).toEqual([11, 14, 21, 24]);
    expect([...snac.codes2].map(Number)).toEqual([12, 13, 15, 16, 22, 23, 25, 26]);
  });

  it('decodes the last 4 frames at every 7th code from the 28th on and keeps samples 2048–4096, like the reference window', () => {
    const window = new SnacStreamWindow();
    const steps: Array<{ at: number; first: number; keep: [number, number] }> = [];
    let position = 0;
    // 6 frames of codes f*100 + p, with a non-audio token (start of speech) in front that must not count.
    expect(window.push(ORPHEUS_TOKENS.startOfSpeech)).toBeUndefined();
    for (let f = 0; f < 6; f++) {
      for (let p = 0; p < 7; p++) {
        const step = window.push(codeToToken(f * 100 + p, position++));
        if (step) steps.push({ at: position, first: Number(step.snac.codes0[0]), keep: [step.keepFrom, step.keepTo] });
      }
    }
    // Reference: count % 7 == 0 and count > 27 → buffer[-28:] → audio[2048:4096].
    expect(steps).toEqual([
      { at: 28, first: 0, keep: [0, 4096] }, // frames 0–3; the first window also keeps frame 0 (the reference drops it)
      { at: 35, first: 100, keep: [2048, 4096] }, // frames 1–4 → frame 2
      { at: 42, first: 200, keep: [2048, 4096] }, // frames 2–5 → frame 3
    ]);
    // What the reference leaves out: frames 4 and 5, from the last window.
    const tail = window.finish();
    expect(Number(tail?.snac.codes0[0])).toBe(200);
    expect([tail?.keepFrom, tail?.keepTo]).toEqual([4096, 8192]);
    // Every frame is emitted exactly once: 2 + 1 + 1 + 2 frames of 2048 samples.
    expect((4096 - 0 + 2048 + 2048 + (8192 - 4096)) / 2048).toBe(6);
  });

  it('emits a clip shorter than 4 frames whole at the end', () => {
    const window = new SnacStreamWindow();
    for (let i = 0; i < 14; i++) expect(window.push(codeToToken(5, i))).toBeUndefined();
    const tail = window.finish();
    expect(tail?.snac.frames).toBe(2);
    expect([tail?.keepFrom, tail?.keepTo]).toEqual([0, 4096]);
    expect(new SnacStreamWindow().finish()).toBeUndefined();
  });
});

describe('Orpheus prompt, voices and text', () => {
  it('frames `<voice>: <text>` with start-of-human … end-of-text, end-of-human, start-of-AI, start-of-speech', () => {
    const tokenizer = { encode: (text: string) => [128000, ...[...text].map((c) => c.charCodeAt(0))] };
    expect(orpheusPrompt(tokenizer, 'tara', 'Hi <laugh>')).toEqual([
      128259, 128000, ...[...'tara: Hi <laugh>'].map((c) => c.charCodeAt(0)), 128009, 128260, 128261, 128257,
    ]);
  });

  it('knows the English voices and the multilingual ones, each with its language and model', () => {
    expect(VOICES.filter((v) => v.language === 'en').map((v) => v.id)).toEqual(['tara', 'leah', 'jess', 'leo', 'dan', 'mia', 'zac', 'zoe']);
    expect(new Set(VOICES.map((v) => v.language))).toEqual(new Set(['en', 'fr', 'de', 'ko', 'hi', 'zh', 'es', 'it']));
    expect(new Set(VOICES.map((v) => v.id)).size).toBe(VOICES.length);
    expect(findVoice('Tara')?.id).toBe('tara');
    expect(findVoice('유나')?.promptName).toBe('유나');
    expect(findVoice('pierre')?.model).toBe('orpheus-3b-fr');
    expect(findVoice('nobody')).toBeUndefined();
  });

  it('splits at sentence ends, joins short pieces, and cuts overlong sentences at a comma or space', () => {
    expect(splitSentences('Hello there, friend. How are you today? I am fine!')).toEqual(['Hello there, friend.', 'How are you today? I am fine!']);
    expect(splitSentences('Hi. Ok. This is the rest of it.')).toEqual(['Hi. Ok. This is the rest of it.']);
    const long = `${'word '.repeat(100)}end.`;
    const parts = splitSentences(long, 120);
    expect(parts.every((p) => p.length <= 120)).toBe(true);
    expect(parts.join(' ')).toBe(long.trim());
  });
});

describe('WAV output', () => {
  it('writes a canonical 44-byte header for 24 kHz mono s16le and clips samples', () => {
    const pcm = floatToPcm16(new Float32Array([0, 0.5, -0.5, 1.5, -2]));
    expect([...new Int16Array(pcm.buffer, pcm.byteOffset, 5)]).toEqual([0, 16383, -16383, 32767, -32767]);
    const wav = wavFile(pcm, 24000);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(36 + 10);
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect([wav.readUInt16LE(20), wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt32LE(28), wav.readUInt16LE(32), wav.readUInt16LE(34)]).toEqual([1, 1, 24000, 48000, 2, 16]);
    expect(wav.toString('ascii', 36, 40)).toBe('data');
    expect(wav.readUInt32LE(40)).toBe(10);
  });
});
