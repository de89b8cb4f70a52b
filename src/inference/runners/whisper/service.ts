import { performance } from 'node:perf_hooks';
import { ValidationError } from '../../../errors/index.ts';
import { AudioDecodeError, decodeUpload } from '../../audio/index.ts';
import { DynamicBatcher } from '../../batcher.ts';
import type { Inference } from '../../service.ts';
import type { ModelRuntime } from '../../types.ts';
import type { DecodeResult, HiddenStates } from './decoder.ts';
import { CHUNK_SAMPLES, HOP_LENGTH, SAMPLE_RATE_HZ } from './features.ts';
import { FALLBACK_TEMPERATURES, transcribeLongform, type WindowRequest } from './longform.ts';
import type { DecodePayload, EncodePayload, EncodeResult, WhisperDescription } from './runner.ts';
import './family.ts';

const RUNNER = new URL('./runner.ts', import.meta.url).href;

export interface TranscribeOptions {
  model: string;
  /** ISO-639-1 code; absent: detected from the first window. */
  language?: string;
  prompt?: string;
  /** 0 (default): start greedy and raise the temperature when the output fails its checks. */
  temperature?: number;
  task?: 'transcribe' | 'translate';
  /** Word timestamps as well. */
  words?: boolean;
  signal?: AbortSignal;
}

/** One word with its start and end in seconds (OpenAI's verbose_json `words`). */
export interface Word {
  word: string;
  start: number;
  end: number;
}

export interface Segment {
  id: number;
  seek: number;
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
}

export interface Transcription {
  text: string;
  language: string;
  durationS: number;
  segments: Segment[];
  /** Present when word timestamps were asked for. */
  words?: Word[];
}

/** One 30 s window of the encoder's input: audio from the seek point, and how the reference floors and pads it. */
interface EncoderWindow {
  audio: Float32Array;
  /** The recording's logMelMax, or NaN for the window's own. */
  fileMax: number;
  /** Mel frames of real audio in the window. */
  frames: number;
}

/**
 * Transcription on the pool, any length, one path for uploads of every format and for call
 * utterances: the long-form loop (longform.ts) seeks window by window; each window's encoder pass
 * goes through the batcher, so windows of concurrent requests share encoder runs.
 */
export class WhisperService {
  private readonly batcher: DynamicBatcher<EncoderWindow, HiddenStates>;
  private readonly described = new Map<string, Promise<WhisperDescription>>();

  constructor(private readonly inference: Inference) {
    const { maxBatch, maxWaitMs } = inference.config.batching;
    this.batcher = new DynamicBatcher<EncoderWindow, HiddenStates>({
      maxBatch,
      maxWaitMs,
      onBatch: (model, size) => inference.metrics.batch(model, size),
      run: (model, windows, signal) => this.encodeBatch(model, windows, signal),
    });
  }

  private async encodeBatch(name: string, windows: EncoderWindow[], signal: AbortSignal): Promise<HiddenStates[]> {
    const model = this.inference.registry.resolve(name, 'whisper');
    const audio = new Float32Array(windows.length * CHUNK_SAMPLES);
    windows.forEach((w, i) => audio.set(w.audio, i * CHUNK_SAMPLES));
    const payload: EncodePayload = {
      audio,
      count: windows.length,
      fileMax: Float64Array.from(windows, (w) => w.fileMax),
      frames: Int32Array.from(windows, (w) => w.frames),
    };
    const out = await this.inference.pools.stt.run<EncodeResult>({ runner: RUNNER, op: 'encode', model, payload }, { transfer: [audio.buffer], signal, stage: 'encode' });
    this.inference.metrics.stage(name, 'features', out.featureS);
    this.inference.metrics.stage(name, 'encoder', out.encodeS);
    const per = out.data.length / windows.length;
    const dims = [1, ...out.dims.slice(1)];
    return windows.map((_, i) => ({ data: out.data.slice(i * per, (i + 1) * per), dims }));
  }

  /** The window at `seek` frames: `frames` frames of audio, zero after them. */
  private window(audio: Float32Array, seek: number, frames: number, fileMax: number): EncoderWindow {
    const w = new Float32Array(CHUNK_SAMPLES);
    const start = seek * HOP_LENGTH;
    w.set(audio.subarray(start, Math.min(audio.length, start + frames * HOP_LENGTH)));
    return { audio: w, fileMax, frames };
  }

  /** The model's tokenizer facts, asked of a worker once per model folder. */
  private tokens(model: ModelRuntime): Promise<WhisperDescription> {
    let known = this.described.get(model.dir);
    if (!known) {
      known = this.inference.pools.stt.run<WhisperDescription>({ runner: RUNNER, op: 'describe', model, payload: {} }, { stage: 'tokenize' }); // shared: no one caller's signal
      this.described.set(model.dir, known);
      known.catch(() => this.described.delete(model.dir));
    }
    return known;
  }

  /** Fails fast (404/503) before any audio work when the model cannot be served. */
  resolve(name: string): ModelRuntime {
    return this.inference.registry.resolve(name, 'whisper');
  }

  /** An uploaded audio file → 16 kHz mono, off the event loop, within inference.maxAudioSeconds. */
  decode(bytes: Uint8Array, signal?: AbortSignal): Promise<Float32Array> {
    return decodeUpload(bytes, { pool: this.inference.pools.stt, maxSeconds: this.inference.config.maxAudioSeconds, ...(signal && { signal }) });
  }

  /** decode() of a client's file: audio it cannot read is the client's fault (400 naming `field`). */
  async decodeFile(bytes: Uint8Array, field: string, signal?: AbortSignal): Promise<Float32Array> {
    try {
      return await this.decode(bytes, signal);
    } catch (err) {
      if (err instanceof AudioDecodeError) throw new ValidationError(`${field}: ${err.message}`);
      throw err;
    }
  }

  /** A client's audio file decoded (decodeFile) and transcribed: the transcription route's and MCP tool's local path. */
  async transcribeFile(bytes: Uint8Array, field: string, options: TranscribeOptions): Promise<Transcription> {
    return this.transcribe(await this.decodeFile(bytes, field, options.signal), options);
  }

  async transcribe(audio: Float32Array, options: TranscribeOptions): Promise<Transcription> {
    const started = performance.now();
    const model = this.resolve(options.model);
    const { signal } = options;
    const stt = this.inference.pools.stt;
    const settings = this.inference.config.whisper;
    const promptTokens = options.prompt ? await stt.run<number[]>({ runner: RUNNER, op: 'encodeText', model, payload: { text: options.prompt } }, { signal, stage: 'tokenize' }) : [];
    // The reference floors every window's features at the whole recording's max − 8. One window
    // (a call utterance, a short upload) is its own recording: no extra pass.
    let fileMax = Number.NaN;
    if (audio.length > CHUNK_SAMPLES) {
      const t0 = performance.now();
      fileMax = await stt.run<number>({ runner: RUNNER, op: 'melMax', model, payload: { audio } }, { signal, stage: 'features' });
      this.inference.metrics.stage(model.name, 'features', (performance.now() - t0) / 1000);
    }
    const { timestampBegin } = await this.tokens(model);
    let language = options.language ?? null;
    let encoded: { seek: number; hidden: Promise<HiddenStates> } | null = null;
    const decodeWindow = async (req: WindowRequest): Promise<DecodeResult> => {
      // Encoded once per window; a fallback decode at the next temperature reuses it.
      if (encoded?.seek !== req.seek) encoded = { seek: req.seek, hidden: this.batcher.submit(model.name, this.window(audio, req.seek, req.segmentFrames, fileMax), signal) };
      const hidden = await encoded.hidden;
      const payload: DecodePayload = {
        hidden,
        options: {
          language,
          task: options.task ?? 'transcribe',
          words: options.words === true,
          temperature: req.temperature,
          bestOf: settings.bestOf,
          promptTokens: req.prompt,
          segmentFrames: req.segmentFrames,
          seed: req.seek * 16 + Math.round(req.temperature * 10),
        },
      };
      const t0 = performance.now();
      const result = await stt.run<DecodeResult>({ runner: RUNNER, op: 'decode', model, payload }, { signal, stage: 'decode' });
      this.inference.metrics.stage(model.name, 'decoder', (performance.now() - t0) / 1000);
      language ??= result.language;
      return result;
    };
    const long = await transcribeLongform(
      {
        totalFrames: Math.floor(audio.length / HOP_LENGTH),
        temperatures: options.temperature !== undefined && options.temperature > 0 ? [options.temperature] : FALLBACK_TEMPERATURES,
        thresholds: { compressionRatio: settings.compressionRatioThreshold, logprob: settings.logprobThreshold, noSpeech: settings.noSpeechThreshold },
        conditionOnPreviousText: true,
        initialPrompt: promptTokens,
        timestampBegin,
      },
      decodeWindow,
    );
    const segments: Segment[] = long.segments.map((s, id) => ({
      id,
      seek: s.seek,
      start: round2(s.startS),
      end: round2(s.endS),
      text: s.text.trim(),
      tokens: s.tokens,
      temperature: s.temperature,
      avg_logprob: s.avgLogprob,
      compression_ratio: s.compressionRatio,
      no_speech_prob: s.noSpeechProb,
    }));
    this.inference.metrics.stage(model.name, 'transcribe', (performance.now() - started) / 1000);
    return {
      text: long.segments.map((s) => s.text).join('').trim(),
      language: language ?? 'en',
      durationS: audio.length / SAMPLE_RATE_HZ,
      segments,
      ...(options.words === true && { words: long.segments.flatMap((s) => (s.words ?? []).map((w) => ({ word: w.word, start: round2(w.startS), end: round2(w.endS) }))) }),
    };
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
