import { performance } from 'node:perf_hooks';
import { decodeUpload } from '../../audio/index.ts';
import { DynamicBatcher } from '../../batcher.ts';
import type { Inference } from '../../service.ts';
import type { ModelRuntime } from '../../types.ts';
import type { DecodeResult, HiddenStates } from './decoder.ts';
import { CHUNK_SAMPLES, SAMPLE_RATE_HZ } from './features.ts';
import type { DecodePayload, EncodePayload, EncodeResult } from './runner.ts';
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
  /** Segment timestamps (seeking window by window); off: fixed 30 s windows decoded in parallel. */
  timestamps: boolean;
  /** Word timestamps as well (with `timestamps`). */
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

const FALLBACK = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** Long-form transcription on the pool: windows batched through the encoder, decoded per window. */
export class WhisperService {
  private readonly batcher: DynamicBatcher<Float32Array, HiddenStates>;

  constructor(private readonly inference: Inference) {
    const { maxBatch, maxWaitMs } = inference.config.batching;
    this.batcher = new DynamicBatcher<Float32Array, HiddenStates>({
      maxBatch,
      maxWaitMs,
      onBatch: (model, size) => inference.metrics.batch(model, size),
      run: (model, windows, signal) => this.encodeBatch(model, windows, signal),
    });
  }

  private async encodeBatch(name: string, windows: Float32Array[], signal: AbortSignal): Promise<HiddenStates[]> {
    const model = this.inference.registry.resolve(name, 'whisper');
    const audio = new Float32Array(windows.length * CHUNK_SAMPLES);
    windows.forEach((w, i) => audio.set(w, i * CHUNK_SAMPLES));
    const payload: EncodePayload = { audio, count: windows.length };
    const out = await this.inference.pools.stt.run<EncodeResult>({ runner: RUNNER, op: 'encode', model, payload }, { transfer: [audio.buffer], signal, stage: 'encode' });
    this.inference.metrics.stage(name, 'features', out.featureS);
    this.inference.metrics.stage(name, 'encoder', out.encodeS);
    const per = out.data.length / windows.length;
    const dims = [1, ...out.dims.slice(1)];
    return windows.map((_, i) => ({ data: out.data.slice(i * per, (i + 1) * per), dims }));
  }

  private window(audio: Float32Array, start: number): Float32Array {
    const w = new Float32Array(CHUNK_SAMPLES);
    w.set(audio.subarray(start, Math.min(audio.length, start + CHUNK_SAMPLES)));
    return w;
  }

  /** Fails fast (404/503) before any audio work when the model cannot be served. */
  resolve(name: string): ModelRuntime {
    return this.inference.registry.resolve(name, 'whisper');
  }

  /** An uploaded audio file → 16 kHz mono, off the event loop, within inference.maxAudioSeconds. */
  decode(bytes: Uint8Array, signal?: AbortSignal): Promise<Float32Array> {
    return decodeUpload(bytes, { pool: this.inference.pools.stt, maxSeconds: this.inference.config.maxAudioSeconds, ...(signal && { signal }) });
  }

  async transcribe(audio: Float32Array, options: TranscribeOptions): Promise<Transcription> {
    const started = performance.now();
    const model = this.resolve(options.model);
    const { signal } = options;
    const promptTokens = options.prompt
      ? await this.inference.pools.stt.run<number[]>({ runner: RUNNER, op: 'encodeText', model, payload: { text: options.prompt } }, { signal, stage: 'tokenize' })
      : [];
    const temperatures = options.temperature !== undefined && options.temperature > 0 ? [options.temperature] : FALLBACK;
    let language = options.language ?? null;
    const decodeWindow = async (start: number, tokens: number[]): Promise<DecodeResult> => {
      const hidden = await this.batcher.submit(model.name, this.window(audio, start), signal);
      const payload: DecodePayload = {
        hidden,
        options: {
          language,
          task: options.task ?? 'transcribe',
          timestamps: options.timestamps,
          words: options.words === true && options.timestamps,
          temperatures,
          promptTokens: tokens,
          windowSamples: Math.min(CHUNK_SAMPLES, audio.length - start),
          seed: start,
        },
      };
      const t0 = performance.now();
      const result = await this.inference.pools.stt.run<DecodeResult>({ runner: RUNNER, op: 'decode', model, payload }, { transfer: [hidden.data.buffer], signal, stage: 'decode' });
      this.inference.metrics.stage(model.name, 'decoder', (performance.now() - t0) / 1000);
      language ??= result.language;
      return result;
    };

    const segments: Segment[] = [];
    const words: Word[] = [];
    const add = (r: DecodeResult, seek: number) => {
      for (const s of r.segments) {
        for (const w of s.words ?? []) words.push({ word: w.word, start: round2(seek / SAMPLE_RATE_HZ + w.startS), end: round2(seek / SAMPLE_RATE_HZ + w.endS) });
        segments.push({
          id: segments.length,
          seek: Math.round(seek / 160),
          start: round2(seek / SAMPLE_RATE_HZ + s.startS),
          end: round2(seek / SAMPLE_RATE_HZ + s.endS),
          text: s.text,
          tokens: s.tokens,
          temperature: r.temperature,
          avg_logprob: r.avgLogprob,
          compression_ratio: r.compressionRatio,
          no_speech_prob: r.noSpeechProb,
        });
      }
    };

    if (audio.length > 0) {
      if (options.timestamps) {
        // Seek window by window: the next one starts at the last complete segment's end.
        for (let seek = 0; seek < audio.length; ) {
          const r = await decodeWindow(seek, promptTokens);
          add(r, seek);
          seek += r.advanceSamples;
        }
      } else {
        // Fixed windows: the first fixes the language, the rest go through the encoder together.
        const first = await decodeWindow(0, promptTokens);
        add(first, 0);
        const starts: number[] = [];
        for (let s = CHUNK_SAMPLES; s < audio.length; s += CHUNK_SAMPLES) starts.push(s);
        const rest = await Promise.all(starts.map((s) => decodeWindow(s, [])));
        rest.forEach((r, i) => add(r, starts[i] as number));
      }
    }
    this.inference.metrics.stage(model.name, 'transcribe', (performance.now() - started) / 1000);
    return {
      text: segments.map((s) => s.text).join(' ').trim(),
      language: language ?? 'en',
      durationS: audio.length / SAMPLE_RATE_HZ,
      segments,
      ...(options.words === true && options.timestamps && { words }),
    };
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
