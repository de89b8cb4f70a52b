import { deflateSync } from 'node:zlib';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { TaskContext } from '../../types.ts';
import { mulberry32 } from '../../random.ts';
import { allocCache, cacheTensor, floatInputType, type CacheType } from '../llm/decoder-io.ts';
import { fromHalfArray, toHalfArray } from './half.ts';
import { applySuppression, argmax, logProbOf, pick } from './logits.ts';
import type { WhisperModelInfo } from './model-files.ts';
import { segmentWords, type TokenTime, type WindowWord } from './words.ts';

/** Encoder output for one 30 s window, as the encoder produced it (fp32 or fp16 bits). */
export interface HiddenStates {
  data: Float32Array | Uint16Array;
  dims: number[];
}

export interface DecodeOptions {
  /** null: detect from this window. */
  language: string | null;
  task: 'transcribe' | 'translate';
  timestamps: boolean;
  /** Word timestamps too (needs `timestamps`). */
  words?: boolean;
  /** Tried in order until the output passes the quality checks. */
  temperatures: number[];
  /** Previous-text tokens (the `prompt` parameter), placed after <|startofprev|>. */
  promptTokens: number[];
  /** Samples of real audio in this window (the rest is padding). */
  windowSamples: number;
  seed: number;
}

export interface WindowSegment {
  startS: number;
  endS: number;
  text: string;
  tokens: number[];
  /** When asked for: the segment's words, in seconds from the window start. */
  words?: WindowWord[];
}

export interface DecodeResult {
  language: string;
  text: string;
  segments: WindowSegment[];
  /** How far the next window starts after this one's start. */
  advanceSamples: number;
  avgLogprob: number;
  compressionRatio: number;
  noSpeechProb: number;
  temperature: number;
  /** Decoder steps run (all temperatures). */
  steps: number;
}

const TIME_PRECISION_S = 0.02;
const SAMPLES_PER_TIMESTAMP = 320;
const COMPRESSION_RATIO_THRESHOLD = 2.4;
const LOGPROB_THRESHOLD = -1;
const NO_SPEECH_THRESHOLD = 0.6;

interface KvCache {
  decoder: Tensor[];
  encoder: Tensor[];
}

/** Greedy/sampled decoding of one window through the merged decoder with its KV cache. */
export class WindowDecoder {
  /** The encoder output in the element type the decoder declares for encoder_hidden_states. */
  private readonly hidden: Tensor;
  /** Each past_key_values input's element type, as the decoder declares it. */
  private readonly pastTypes = new Map<string, CacheType>();
  /**
   * What each kind of step fetches. After step one the cross-attention presents are the pasts
   * passed through, which this decoder already holds: fetching them would copy the whole encoder
   * cache back from the device on every token (large-v3: 32 layers x 2 x 20 x 1500 x 64 floats,
   * 491 MB fp32), as would the language-detection step, whose cache is never reused.
   */
  private readonly fetches: Record<'first' | 'cached' | 'logits', string[]> = { first: ['logits'], cached: ['logits'], logits: ['logits'] };
  steps = 0;

  constructor(
    private readonly session: InferenceSession,
    private readonly info: WhisperModelInfo,
    hidden: Tensor,
    private readonly ctx: TaskContext,
  ) {
    // Encoder and decoder are separate files that need not share a float type (an fp32 encoder
    // beside an fp16 decoder, a q4 decoder with fp32 inputs beside an fp16 encoder): what this
    // decoder's graph declares decides, never what the encoder happened to output.
    this.hidden = asFloatType(hidden, floatInputType(session, 'encoder_hidden_states') ?? 'float32');
    for (let i = 0; i < info.decoderLayers; i++) {
      for (const name of pastNames(i)) {
        const type = floatInputType(session, name);
        if (!type) throw new Error(`the Whisper decoder export has no ${name} input (config.json says ${info.decoderLayers} layers)`);
        this.pastTypes.set(name, type);
      }
      const [dk, dv, ek, ev] = presentNames(i);
      this.fetches.first.push(dk, dv, ek, ev);
      this.fetches.cached.push(dk, dv);
    }
  }

  private empty(name: string): Tensor {
    const type = this.pastTypes.get(name) ?? 'float32';
    return cacheTensor(type, allocCache(type, 0), [1, this.info.decoderHeads, 0, this.info.headDim]);
  }

  /** Runs ids through the decoder; returns the logits of every position and (unless `logitsOnly`) the new cache. */
  private async step(ids: number[], cache: KvCache | null, logitsOnly = false): Promise<{ logits: Tensor; cache: KvCache }> {
    this.ctx.throwIfCancelled();
    this.steps++;
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]),
      encoder_hidden_states: this.hidden,
      use_cache_branch: new Tensor('bool', [cache !== null], [1]),
    };
    for (let i = 0; i < this.info.decoderLayers; i++) {
      const [dk, dv, ek, ev] = pastNames(i);
      feeds[dk] = cache?.decoder[2 * i] ?? this.empty(dk);
      feeds[dv] = cache?.decoder[2 * i + 1] ?? this.empty(dv);
      feeds[ek] = cache?.encoder[2 * i] ?? this.empty(ek);
      feeds[ev] = cache?.encoder[2 * i + 1] ?? this.empty(ev);
    }
    const out = await this.session.run(feeds, logitsOnly ? this.fetches.logits : cache ? this.fetches.cached : this.fetches.first);
    const next: KvCache = { decoder: [], encoder: cache?.encoder ?? [] };
    if (logitsOnly) return { logits: out.logits as Tensor, cache: next };
    for (let i = 0; i < this.info.decoderLayers; i++) {
      const [dk, dv, ek, ev] = presentNames(i);
      next.decoder.push(out[dk] as Tensor, out[dv] as Tensor);
      // The encoder (cross-attention) cache is computed on step one and kept after it.
      if (!cache) next.encoder.push(out[ek] as Tensor, out[ev] as Tensor);
    }
    return { logits: out.logits as Tensor, cache: next };
  }

  private row(logits: Tensor, position: number): Float32Array {
    const vocab = logits.dims[2] as number;
    const start = position * vocab;
    if (logits.type === 'float16') return fromHalfArray(logits.data as Uint16Array, start, start + vocab);
    return (logits.data as Float32Array).slice(start, start + vocab);
  }

  async detectLanguage(): Promise<string> {
    const { tokens } = this.info;
    const { logits } = await this.step([tokens.sot], null, true);
    const row = this.row(logits, 0);
    let best: string | undefined;
    let bestLogit = -Infinity;
    for (const [code, id] of tokens.languages) {
      if ((row[id] as number) > bestLogit) {
        bestLogit = row[id] as number;
        best = code;
      }
    }
    return best ?? 'en';
  }

  async decode(options: DecodeOptions, tokenizerDecode: (ids: number[]) => string): Promise<DecodeResult> {
    const { tokens } = this.info;
    const language = options.language ?? (await this.detectLanguage());
    const lang = tokens.languages.get(language);
    const sotSequence = [tokens.sot, ...(lang === undefined ? [] : [lang]), options.task === 'translate' ? tokens.translate : tokens.transcribe];
    if (!options.timestamps) sotSequence.push(tokens.noTimestamps);
    const maxPrompt = Math.floor(this.info.maxTargetPositions / 2) - 1;
    const prev = options.promptTokens.length > 0 ? [tokens.startOfPrev, ...options.promptTokens.slice(-maxPrompt)] : [];
    const prompt = [...prev, ...sotSequence];
    const sotIndex = prev.length;
    const maxNew = Math.min(Math.floor(this.info.maxTargetPositions / 2), this.info.maxTargetPositions - prompt.length);

    let result: DecodeResult | undefined;
    for (const [attempt, temperature] of options.temperatures.entries()) {
      const random = mulberry32(options.seed + attempt);
      const generated: number[] = [];
      const times: (TokenTime | undefined)[] = [];
      let sumLogprob = 0;
      let noSpeechProb = 0;
      let input = prompt;
      let cache: KvCache | null = null;
      for (let i = 0; i < maxNew; i++) {
        const out = await this.step(input, cache);
        cache = out.cache;
        if (i === 0 && tokens.noSpeech !== null) noSpeechProb = Math.exp(logProbOf(this.row(out.logits, sotIndex), tokens.noSpeech));
        const logits = this.row(out.logits, input.length - 1);
        // Read before suppression rewrites the row: what the model itself thinks the time is.
        const reading = options.words && options.timestamps ? timestampReading(logits, tokens.timestampBegin) : undefined;
        applySuppression(logits, tokens, generated, options.timestamps);
        const next = pick(logits, temperature, random);
        if (next === tokens.eot) break;
        sumLogprob += logProbOf(logits, next);
        generated.push(next);
        times.push(reading);
        input = [next];
      }
      const text = tokenizerDecode(generated.filter((t) => t < tokens.eot));
      const avgLogprob = sumLogprob / (generated.length + 1);
      const compressionRatio = compression(text);
      result = { ...this.segment(generated, times, options, language, tokenizerDecode), language, avgLogprob, compressionRatio, noSpeechProb, temperature, steps: this.steps };
      if (noSpeechProb > NO_SPEECH_THRESHOLD && avgLogprob < LOGPROB_THRESHOLD) {
        return { ...result, text: '', segments: [], advanceSamples: options.windowSamples };
      }
      const failed = compressionRatio > COMPRESSION_RATIO_THRESHOLD || avgLogprob < LOGPROB_THRESHOLD;
      if (!failed) break;
    }
    return result as DecodeResult;
  }

  /** Splits tokens into segments at consecutive timestamps, as the reference transcribe loop does. */
  private segment(
    generated: number[],
    times: readonly (TokenTime | undefined)[],
    options: DecodeOptions,
    language: string,
    decodeText: (ids: number[]) => string,
  ): Pick<DecodeResult, 'text' | 'segments' | 'advanceSamples'> {
    const tb = this.info.tokens.timestampBegin;
    const eot = this.info.tokens.eot;
    const textOf = (ids: number[]) => decodeText(ids.filter((t) => t < eot)).trim();
    const withWords = (seg: WindowSegment, from: number): WindowSegment =>
      options.words ? { ...seg, words: segmentWords(seg.tokens, times.slice(from, from + seg.tokens.length), (t) => t < eot, seg, decodeText, language) } : seg;
    const windowS = options.windowSamples / 16000;
    const text = textOf(generated);
    if (!options.timestamps) return { text, segments: text ? [{ startS: 0, endS: windowS, text, tokens: generated }] : [], advanceSamples: options.windowSamples };
    const isTs = generated.map((t) => t >= tb);
    const singleEnding = generated.length >= 2 ? !isTs[generated.length - 2] && isTs[generated.length - 1] === true : generated.length === 1 && isTs[0] === true;
    const consecutive: number[] = [];
    for (let i = 1; i < generated.length; i++) if (isTs[i - 1] && isTs[i]) consecutive.push(i);
    const segments: WindowSegment[] = [];
    if (consecutive.length > 0) {
      const slices = [...consecutive];
      if (singleEnding) slices.push(generated.length);
      let last = 0;
      for (const cur of slices) {
        const part = generated.slice(last, cur);
        const startS = ((part[0] as number) - tb) * TIME_PRECISION_S;
        const endS = ((part[part.length - 1] as number) - tb) * TIME_PRECISION_S;
        const t = textOf(part);
        if (t) segments.push(withWords({ startS, endS: Math.max(endS, startS), text: t, tokens: part }, last));
        last = cur;
      }
      const advance = singleEnding ? options.windowSamples : ((generated[last - 1] as number) - tb) * SAMPLES_PER_TIMESTAMP;
      return { text, segments, advanceSamples: advance > 0 ? advance : options.windowSamples };
    }
    const stamps = generated.filter((t) => t >= tb);
    const lastStamp = stamps[stamps.length - 1];
    const endS = lastStamp !== undefined && lastStamp !== tb ? (lastStamp - tb) * TIME_PRECISION_S : windowS;
    if (text) segments.push(withWords({ startS: 0, endS, text, tokens: generated }, 0));
    return { text, segments, advanceSamples: options.windowSamples };
  }
}

/** Layer i's cache inputs (past_key_values) or outputs (present): decoder key, decoder value, encoder (cross-attention) key, encoder value. */
function layerNames(prefix: 'past_key_values' | 'present', i: number): [string, string, string, string] {
  const p = `${prefix}.${i}`;
  return [`${p}.decoder.key`, `${p}.decoder.value`, `${p}.encoder.key`, `${p}.encoder.value`];
}
const pastNames = (i: number) => layerNames('past_key_values', i);
const presentNames = (i: number) => layerNames('present', i);

/** `t` as float32 or float16 (converted when the encoder produced the other type). */
function asFloatType(t: Tensor, type: CacheType): Tensor {
  if (t.type === type) return t;
  if (type === 'float16') return new Tensor('float16', toHalfArray(t.data as Float32Array), t.dims);
  return new Tensor('float32', fromHalfArray(t.data as Uint16Array), t.dims);
}

/** The most probable timestamp token at this step and its probability over the whole vocabulary. */
function timestampReading(logits: Float32Array, timestampBegin: number): TokenTime {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  let best = timestampBegin;
  for (let i = timestampBegin + 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return { t: (best - timestampBegin) * TIME_PRECISION_S, p: Math.exp((logits[best] as number) - max) / sum };
}

function compression(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return 0;
  return bytes.length / deflateSync(bytes).length;
}

export { argmax };
