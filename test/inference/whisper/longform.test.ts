import { describe, expect, it } from 'vitest';
import {
  FALLBACK_TEMPERATURES,
  REFERENCE_THRESHOLDS,
  sliceWindow,
  transcribeLongform,
  type LongformOptions,
  type WindowDecode,
  type WindowRequest,
} from '../../../src/inference/runners/whisper/longform.ts';

/*
 * The long-form loop over a scripted decoder (the seam the real one plugs into): the script
 * plans each window's tokens from where the window starts, the way Whisper's output is laid out,
 * so the seeking, the prompts and the fallback decisions are checked without a model.
 */

const TB = 1000; // first timestamp token; tokens below are words
const ts = (seconds: number) => TB + Math.round(seconds / 0.02);
const textOf = (tokens: readonly number[]) => tokens.filter((t) => t < TB).map((t) => ` w${t}`).join('');

function windowDecode(tokens: number[], over: Partial<WindowDecode> = {}): WindowDecode {
  const pieces = sliceWindow(tokens, TB).slices.map((s) => ({ text: textOf(tokens.slice(s.from, s.to)) }));
  return { language: 'en', tokens, pieces, avgLogprob: -0.2, compressionRatio: 1.2, noSpeechProb: 0.01, temperature: 0, ...over };
}

function options(totalFrames: number, over: Partial<LongformOptions> = {}): LongformOptions {
  return { totalFrames, temperatures: FALLBACK_TEMPERATURES, thresholds: REFERENCE_THRESHOLDS, conditionOnPreviousText: true, initialPrompt: [], timestampBegin: TB, ...over };
}

/**
 * Speech: word k from 0.65·k s for 0.5 s. A window hears the words that start inside it and groups
 * them four to a segment; a segment whose last word runs past the window's end stays open (no
 * closing timestamp), as Whisper leaves an utterance it hears cut off.
 */
function speechScript(words: number) {
  const at = (k: number) => ({ start: 0.65 * k, end: 0.65 * k + 0.5 });
  const requests: WindowRequest[] = [];
  const decode = async (r: WindowRequest): Promise<WindowDecode> => {
    requests.push(r);
    const from = r.seek / 100;
    const to = from + r.segmentFrames / 100;
    const heard: number[] = [];
    for (let k = 0; k < words; k++) if (at(k).start >= from && at(k).start < to) heard.push(k);
    const tokens: number[] = [];
    for (let i = 0; i < heard.length; i += 4) {
      const group = heard.slice(i, i + 4);
      const first = at(group[0]!);
      const last = at(group[group.length - 1]!);
      tokens.push(ts(first.start - from), ...group);
      if (last.end > to) break; // cut off: left open
      tokens.push(ts(last.end - from));
    }
    return windowDecode(tokens);
  };
  return { decode, requests };
}

describe('Whisper long-form transcription (scripted decoder)', () => {
  it('keeps every word once, in order, across windows, seeking to the last complete segment', async () => {
    const words = 110; // 72 s of speech
    const { decode, requests } = speechScript(words);
    const out = await transcribeLongform(options(7200), decode);
    const said = out.segments.flatMap((s) => s.tokens.filter((t) => t < TB));
    expect(said).toEqual(Array.from({ length: words }, (_, k) => k));
    // Windows start where a complete segment ended, not at hard 30 s marks.
    const seeks = requests.map((r) => r.seek);
    expect(seeks[0]).toBe(0);
    expect(seeks.slice(1).some((s) => s % 3000 !== 0)).toBe(true);
    for (let i = 1; i < out.segments.length; i++) expect(out.segments[i]!.startS).toBeGreaterThanOrEqual(out.segments[i - 1]!.endS);
    for (const s of out.segments) expect(s.text).toBe(textOf(s.tokens));
  });

  it('seeks by the last closing timestamp when the window ends on an unfinished segment', async () => {
    const seen: number[] = [];
    const out = await transcribeLongform(options(3400), async (r) => {
      seen.push(r.seek);
      if (r.seek === 0) return windowDecode([ts(0), 1, 2, ts(2), ts(2), 3, 4, ts(4), ts(5), 5, 6]);
      return windowDecode([ts(0), 5, 6, ts(1)]);
    });
    expect(seen).toEqual([0, 400]); // <|4.00|> = 200 timestamp steps = 400 frames
    expect(out.segments.map((s) => [s.seek, s.startS, s.endS, s.text])).toEqual([
      [0, 0, 2, ' w1 w2'],
      [0, 2, 4, ' w3 w4'],
      [400, 4, 5, ' w5 w6'],
    ]);
  });

  it('moves a whole window on after a single timestamp ending, and after output without a timestamp pair', async () => {
    const seen: number[] = [];
    await transcribeLongform(options(7000), async (r) => {
      seen.push(r.seek);
      if (r.seek === 0) return windowDecode([ts(1), 7, 8, ts(3)]); // single timestamp ending
      return windowDecode([ts(0), 9]); // no pair, not closed
    });
    expect(seen).toEqual([0, 3000, 6000]);
  });

  it('decodes a window hotter while it fails the compression or log-prob checks', async () => {
    const temps: number[] = [];
    const out = await transcribeLongform(options(1000), async (r) => {
      temps.push(r.temperature);
      if (r.temperature === 0) return windowDecode([ts(0), 1, 1, 1, ts(5)], { compressionRatio: 3.1, temperature: 0 });
      if (r.temperature === 0.2) return windowDecode([ts(0), 2, ts(5)], { avgLogprob: -1.4, temperature: 0.2 });
      return windowDecode([ts(0), 3, ts(5)], { temperature: r.temperature });
    });
    expect(temps).toEqual([0, 0.2, 0.4]);
    expect(out.segments.map((s) => [s.text, s.temperature])).toEqual([[' w3', 0.4]]);
    expect(out.decodes).toBe(3);
  });

  it('skips a window the model calls silent (no-speech probability high, log-prob low) without falling back', async () => {
    const temps: number[] = [];
    const seen: number[] = [];
    const out = await transcribeLongform(options(4500), async (r) => {
      temps.push(r.temperature);
      seen.push(r.seek);
      if (r.seek === 0) return windowDecode([ts(0), 4, ts(10)], { noSpeechProb: 0.9, avgLogprob: -1.5 });
      // Sure of speech despite a high no-speech probability: kept.
      return windowDecode([ts(0), 5, ts(2)], { noSpeechProb: 0.9, avgLogprob: -0.3 });
    });
    expect(temps).toEqual([0, 0]);
    expect(seen).toEqual([0, 3000]);
    expect(out.segments.map((s) => s.text)).toEqual([' w5']);
    // With the thresholds off, the same window is transcribed.
    const off = await transcribeLongform(options(1000, { thresholds: { compressionRatio: null, logprob: null, noSpeech: null } }), async () => windowDecode([ts(0), 4, ts(10)], { noSpeechProb: 0.9, avgLogprob: -1.5 }));
    expect(off.segments.map((s) => s.text)).toEqual([' w4']);
  });

  it('prompts each window with the text so far (condition_on_previous_text), resetting after a hot decode', async () => {
    const prompts: number[][] = [];
    await transcribeLongform(options(12_000, { initialPrompt: [90, 91] }), async (r) => {
      prompts.push(r.prompt);
      const word = 10 + r.seek / 3000;
      // The third window needs a temperature above 0.5: the prompt starts afresh after it.
      if (r.seek === 6000 && r.temperature < 0.6) return windowDecode([ts(0), word, ts(1)], { avgLogprob: -3, temperature: r.temperature });
      return windowDecode([ts(0), word, ts(1)], { temperature: r.temperature });
    });
    expect(prompts[0]).toEqual([90, 91]);
    expect(prompts[1]).toEqual([90, 91, ts(0), 10, ts(1)]);
    expect(prompts[prompts.length - 1]).toEqual([]);
    const off: number[][] = [];
    await transcribeLongform(options(9000, { conditionOnPreviousText: false, initialPrompt: [90] }), async (r) => {
      off.push(r.prompt);
      return windowDecode([ts(0), 1, ts(1)]);
    });
    expect(off).toEqual([[90], [], []]);
  });

  it('cuts times past the end of the audio to it, and drops a segment that starts there', async () => {
    const out = await transcribeLongform(options(500), async () => windowDecode([ts(1), 1, ts(4), ts(4), 2, ts(6), ts(6), 3, ts(9)]));
    expect(out.segments.map((s) => [s.startS, s.endS, s.text])).toEqual([
      [1, 4, ' w1'],
      [4, 5, ' w2'],
    ]);
  });

  it('leaves out instantaneous segments and their tokens', async () => {
    const prompts: number[][] = [];
    const out = await transcribeLongform(options(6000), async (r) => {
      prompts.push(r.prompt);
      return windowDecode([ts(1), 3, ts(1), ts(1), 4, ts(2)]);
    });
    expect(out.segments.map((s) => s.text)).toEqual([' w4', ' w4']);
    expect(prompts[1]).toEqual([ts(1), 4, ts(2)]);
  });
});
