import { Tensor } from 'onnxruntime-node';
import type { TaskContext } from '../../types.ts';
import { WindowDecoder, type DecodeOptions, type DecodeResult, type HiddenStates } from './decoder.ts';
import { CHUNK_SAMPLES, logMelMax, logMelSpectrogram, N_FRAMES } from './features.ts';
import { toHalfArray } from './half.ts';
import { decoderFile, encoderFile, loadWhisperModelInfo, type WhisperModelInfo } from './model-files.ts';

/*
 * Whisper's worker-side ops. `encode` takes a batch of 30 s windows (audio, so feature
 * extraction also stays off the main thread) and runs the encoder once for all of them;
 * `decode` runs one window's decoder loop at one temperature; `melMax` reads a whole recording's
 * loudest log-mel value, the floor every window's features share. Sessions and the tokenizer are made once per worker.
 */

function modelOf(ctx: TaskContext) {
  if (!ctx.model) throw new Error('whisper ops need a model');
  return ctx.model;
}

function info(ctx: TaskContext): Promise<WhisperModelInfo> {
  const model = modelOf(ctx);
  return ctx.cached('whisper-info', () => loadWhisperModelInfo(model.dir));
}

export interface EncodePayload {
  /** `count` windows of CHUNK_SAMPLES samples each, back to back. */
  audio: Float32Array;
  count: number;
  /** Per window: its recording's logMelMax (NaN: the window's own max). */
  fileMax: Float64Array;
  /** Per window: mel frames of real audio; the features past them are zero, as the reference pads. */
  frames: Int32Array;
}

export interface EncodeResult extends HiddenStates {
  featureS: number;
  encodeS: number;
}

async function encode(payload: EncodePayload, ctx: TaskContext): Promise<EncodeResult> {
  const model = modelOf(ctx);
  const { nMels } = await info(ctx);
  const session = await ctx.session(encoderFile(model.dtype));
  const started = performance.now();
  const features = new Float32Array(payload.count * nMels * N_FRAMES);
  for (let b = 0; b < payload.count; b++) {
    ctx.throwIfCancelled();
    const window = payload.audio.subarray(b * CHUNK_SAMPLES, (b + 1) * CHUNK_SAMPLES);
    const out = features.subarray(b * nMels * N_FRAMES, (b + 1) * nMels * N_FRAMES);
    const fileMax = payload.fileMax[b] as number;
    logMelSpectrogram(window, nMels, out, Number.isNaN(fileMax) ? undefined : fileMax);
    const frames = payload.frames[b] as number;
    if (frames < N_FRAMES) for (let m = 0; m < nMels; m++) out.fill(0, m * N_FRAMES + frames, (m + 1) * N_FRAMES);
  }
  const featureS = (performance.now() - started) / 1000;
  ctx.throwIfCancelled();
  const meta = session.inputMetadata.find((m) => m.name === 'input_features');
  const half = meta?.isTensor === true && meta.type === 'float16';
  const dims = [payload.count, nMels, N_FRAMES];
  const input = half ? new Tensor('float16', toHalfArray(features), dims) : new Tensor('float32', features, dims);
  const encodeStarted = performance.now();
  const out = await session.run({ input_features: input });
  const hidden = out.last_hidden_state as Tensor;
  const data = hidden.data as Float32Array | Uint16Array;
  ctx.transfer(data.buffer);
  return { data, dims: [...hidden.dims], featureS, encodeS: (performance.now() - encodeStarted) / 1000 };
}

export interface DecodePayload {
  hidden: HiddenStates;
  options: DecodeOptions;
}

async function decode(payload: DecodePayload, ctx: TaskContext): Promise<DecodeResult> {
  const model = modelOf(ctx);
  const whisper = await info(ctx);
  const session = await ctx.session(decoderFile(model.dtype));
  const { data, dims } = payload.hidden;
  const hidden = data instanceof Uint16Array ? new Tensor('float16', data, dims) : new Tensor('float32', data, dims);
  const decoder = new WindowDecoder(session, whisper, hidden, ctx);
  return decoder.decode(payload.options, (ids) => whisper.tokenizer.decode(ids, { skip_special_tokens: true }));
}

async function melMax(payload: { audio: Float32Array }, ctx: TaskContext): Promise<number> {
  const { nMels } = await info(ctx);
  return logMelMax(payload.audio, nMels);
}

async function encodeText(payload: { text: string }, ctx: TaskContext): Promise<number[]> {
  const whisper = await info(ctx);
  return whisper.tokenizer.encode(` ${payload.text.trim()}`, { add_special_tokens: false }).ids;
}

export interface WhisperDescription {
  nMels: number;
  languages: string[];
  /** The first timestamp token's id (the long-form loop splits windows on timestamps). */
  timestampBegin: number;
}

async function describe(_payload: unknown, ctx: TaskContext): Promise<WhisperDescription> {
  const whisper = await info(ctx);
  return { nMels: whisper.nMels, languages: [...whisper.tokens.languages.keys()], timestampBegin: whisper.tokens.timestampBegin };
}

export const ops = { encode, decode, melMax, encodeText, describe };
