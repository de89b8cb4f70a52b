import { deflateSync } from 'node:zlib';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { TaskContext } from '../../types.ts';
import { allocCache, cacheTensor, floatInputType, type CacheType } from '../llm/decoder-io.ts';
import { fromHalfArray, toHalfArray } from './half.ts';
import { logProbOf } from './logits.ts';
import { FRAMES_PER_SECOND, sliceWindow, TIME_PRECISION_S, type SlicePiece, type WindowDecode } from './longform.ts';
import type { WhisperModelInfo } from './model-files.ts';
import { averageLogprob, sampleWindow, type NextLogits } from './sampler.ts';
import { segmentWords, type TokenTime } from './words.ts';

/** Encoder output for one 30 s window, as the encoder produced it (fp32 or fp16 bits). */
export interface HiddenStates {
  data: Float32Array | Uint16Array;
  dims: number[];
}

export interface DecodeOptions {
  /** null: detect from this window. */
  language: string | null;
  task: 'transcribe' | 'translate';
  /** Word timestamps too. */
  words?: boolean;
  temperature: number;
  /** Samples drawn at a temperature above 0, the best-ranked kept (the reference's best_of). */
  bestOf: number;
  /** Previous-text tokens (the caller's prompt, then the text so far), placed after <|startofprev|>. */
  promptTokens: number[];
  /** Mel frames of real audio in this window (the rest is padding). */
  segmentFrames: number;
  seed: number;
}

/** One decode of one window (the long-form loop's WindowDecode) and the decoder steps it ran. */
export interface DecodeResult extends WindowDecode {
  steps: number;
}

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

  /**
   * Runs ids through the decoder; returns the logits of every position and (unless `logitsOnly`) the
   * new cache. `batch` rows of ids.length / batch tokens each, over a cache of that many rows.
   */
  private async step(ids: number[], cache: KvCache | null, logitsOnly = false, batch = 1): Promise<{ logits: Tensor; cache: KvCache }> {
    this.ctx.throwIfCancelled();
    this.steps++;
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [batch, ids.length / batch]),
      encoder_hidden_states: this.hiddenRows(batch),
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

  private tiled: Tensor | null = null;

  /** The encoder output for `batch` rows (the best_of samples of one window share it). */
  private hiddenRows(batch: number): Tensor {
    if (batch === 1) return this.hidden;
    if (this.tiled?.dims[0] !== batch) this.tiled = tileRows(this.hidden, batch);
    return this.tiled;
  }

  /** Logits at `position` of batch row `b`. */
  private row(logits: Tensor, position: number, b = 0): Float32Array {
    const vocab = logits.dims[2] as number;
    const start = (b * (logits.dims[1] as number) + position) * vocab;
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
    const maxPrompt = Math.floor(this.info.maxTargetPositions / 2) - 1;
    const prev = options.promptTokens.length > 0 ? [tokens.startOfPrev, ...options.promptTokens.slice(-maxPrompt)] : [];
    const prompt = [...prev, ...sotSequence];
    const sotIndex = prev.length;
    const maxNew = Math.min(Math.floor(this.info.maxTargetPositions / 2), this.info.maxTargetPositions - prompt.length);

    let noSpeechProb = 0;
    let cache: KvCache | null = null;
    let rows = 1;
    // The prompt runs once; the best_of samples then step together, its cache copied to each.
    const next: NextLogits = async (inputs) => {
      if (cache === null) {
        const out = await this.step([...(inputs[0] ?? [])], null);
        if (tokens.noSpeech !== null) noSpeechProb = Math.exp(logProbOf(this.row(out.logits, sotIndex), tokens.noSpeech));
        cache = out.cache;
        return [this.row(out.logits, prompt.length - 1)];
      }
      if (inputs.length !== rows) {
        cache = { decoder: cache.decoder.map((t) => tileRows(t, inputs.length)), encoder: cache.encoder.map((t) => tileRows(t, inputs.length)) };
        rows = inputs.length;
      }
      const out = await this.step(inputs.flat(), cache, false, rows);
      cache = out.cache;
      return inputs.map((_, b) => this.row(out.logits, 0, b));
    };
    const sample = await sampleWindow(next, prompt, { tokens, maxNew, temperature: options.temperature, bestOf: options.bestOf, seed: options.seed, readTimes: options.words === true });
    const text = tokenizerDecode(sample.tokens.filter((t) => t < tokens.eot));
    return {
      language,
      tokens: sample.tokens,
      pieces: this.pieces(sample.tokens, sample.times, options, language, tokenizerDecode),
      avgLogprob: averageLogprob(sample),
      compressionRatio: compression(text.trim()),
      noSpeechProb,
      temperature: options.temperature,
      steps: this.steps,
    };
  }

  /** The text (and words) of each segment the long-form loop will cut from these tokens. */
  private pieces(generated: number[], times: readonly (TokenTime | undefined)[], options: DecodeOptions, language: string, decodeText: (ids: number[]) => string): SlicePiece[] {
    const eot = this.info.tokens.eot;
    const isText = (t: number) => t < eot;
    return sliceWindow(generated, this.info.tokens.timestampBegin).slices.map((slice) => {
      const part = generated.slice(slice.from, slice.to);
      const text = decodeText(part.filter(isText));
      if (!options.words) return { text };
      const startS = slice.startPos * TIME_PRECISION_S;
      const endS = slice.endPos === null ? options.segmentFrames / FRAMES_PER_SECOND : Math.max(startS, slice.endPos * TIME_PRECISION_S);
      return { text, words: segmentWords(part, times.slice(slice.from, slice.to), isText, { startS, endS }, decodeText, language) };
    });
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

/** A one-row tensor repeated `n` times along the batch axis. */
function tileRows(t: Tensor, n: number): Tensor {
  const data = t.data as Float32Array | Uint16Array;
  const out = t.type === 'float16' ? new Uint16Array(data.length * n) : new Float32Array(data.length * n);
  for (let b = 0; b < n; b++) out.set(data, b * data.length);
  return t.type === 'float16' ? new Tensor('float16', out as Uint16Array, [n, ...t.dims.slice(1)]) : new Tensor('float32', out as Float32Array, [n, ...t.dims.slice(1)]);
}

function compression(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return 0;
  return bytes.length / deflateSync(bytes).length;
}
