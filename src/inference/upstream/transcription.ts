import { readBoundedBody } from '../../net/index.ts';
import { UpstreamError } from './engine.ts';
import type { ReplicaSet } from './replica-set.ts';

/** An uploaded audio file and the form fields forwarded with it (the route has bounded all of them). */
export interface TranscriptionUpload {
  file: Uint8Array;
  filename: string;
  mimetype: string;
  language?: string;
  prompt?: string;
  temperature?: number;
  /** timestamp_granularities[] as the client sent them. */
  granularities: readonly string[];
}

export interface TimedText {
  start: number;
  end: number;
  text: string;
}

/** What an engine transcribed, from its verbose_json answer (or its plain {text} one). */
export interface UpstreamTranscript {
  text: string;
  /** As the engine names it (a code or an English name). */
  language?: string;
  /** Seconds of audio, when the engine said. */
  durationS?: number;
  /** Segments as the engine wrote them; each has at least start, end and text. */
  segments: Array<TimedText & Record<string, unknown>>;
  /** Word timestamps as the engine wrote them, when it gave any. */
  words?: Array<{ word: string; start: number; end: number } & Record<string, unknown>>;
}

/** Answers bigger than this are not a transcript of an upload the route accepted. */
const ANSWER_LIMIT_BYTES = 16 * 1_048_576;

/**
 * Whisper on an OpenAI-compatible transcription engine (vLLM, speaches, faster-whisper-server):
 * the upload goes on as multipart/form-data with the engine's model name, asking for
 * verbose_json so the duration (for metering) and segments (for srt / vtt) come back.
 */
export class UpstreamTranscriber {
  readonly model: string;

  constructor(readonly replicas: ReplicaSet) {
    this.model = replicas.model;
  }

  async transcribe(upload: TranscriptionUpload, signal: AbortSignal): Promise<UpstreamTranscript> {
    const form = new FormData();
    form.set('file', new Blob([upload.file], { type: upload.mimetype }), upload.filename);
    form.set('model', this.replicas.config.upstreamModel);
    form.set('response_format', 'verbose_json');
    if (upload.language !== undefined) form.set('language', upload.language);
    if (upload.prompt !== undefined) form.set('prompt', upload.prompt);
    if (upload.temperature !== undefined) form.set('temperature', String(upload.temperature));
    for (const g of upload.granularities) form.append('timestamp_granularities[]', g);
    // Serialized once (the upload is already bounded), the same bytes for each replica tried.
    const encoded = new Response(form);
    const body = new Uint8Array(await encoded.arrayBuffer());
    const headers = { accept: 'application/json', 'content-type': encoded.headers.get('content-type') ?? 'multipart/form-data' };
    const held = await this.replicas.send('/audio/transcriptions', { headers, body }, signal, async (res) => {
      const { text, over } = await readBoundedBody(res.body, ANSWER_LIMIT_BYTES);
      if (over) throw new UpstreamError(`the upstream engine for ${this.model} answered with more than ${ANSWER_LIMIT_BYTES} bytes`, 502);
      return (res.headers.get('content-type') ?? '').includes('json') ? parseAnswer(text, this.model) : { text, segments: [] };
    });
    held.done();
    return held.value;
  }
}

const isTimed = (x: unknown): x is TimedText & Record<string, unknown> => {
  const t = x as Partial<TimedText> | null;
  return typeof t === 'object' && t !== null && typeof t.start === 'number' && typeof t.end === 'number' && typeof t.text === 'string';
};

const isWord = (x: unknown): x is { word: string; start: number; end: number } & Record<string, unknown> => {
  const w = x as { word?: unknown; start?: unknown; end?: unknown } | null;
  return typeof w === 'object' && w !== null && typeof w.word === 'string' && typeof w.start === 'number' && typeof w.end === 'number';
};

/** The engine's JSON answer, checked field by field (anything malformed is left out). */
function parseAnswer(body: string, model: string): UpstreamTranscript {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new UpstreamError(`the upstream engine for ${model} answered with malformed JSON`, 502);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.text !== 'string') {
    throw new UpstreamError(`the upstream engine for ${model} answered without a transcript text`, 502);
  }
  const duration = parsed.duration;
  return {
    text: parsed.text,
    ...(typeof parsed.language === 'string' && { language: parsed.language }),
    ...(typeof duration === 'number' && Number.isFinite(duration) && duration >= 0 && { durationS: duration }),
    segments: Array.isArray(parsed.segments) ? parsed.segments.filter(isTimed) : [],
    ...(Array.isArray(parsed.words) && { words: parsed.words.filter(isWord) }),
  };
}
