import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Clock } from '../../../clock/index.ts';
import { AgentPhoneError, ValidationError } from '../../../errors/index.ts';
import { LANGUAGE_NAMES, toSrt, toVtt, type WhisperService } from '../../../inference/index.ts';
import type { TimedText, Upstreams } from '../../../inference/upstream/index.ts';
import { KeyUsageMeter } from '../../../metering/index.ts';
import type { UsageRepository } from '../../../store/index.ts';
import { principalOf } from '../../auth.ts';

export interface TranscriptionRoutesOptions {
  whisper: WhisperService;
  usage: UsageRepository;
  clock: Clock;
  maxAudioBytes: number;
  defaultModel?: string;
  /** Transcription models on upstream engines, with their local fallbacks. */
  upstreams?: Pick<Upstreams, 'transcription' | 'orLocal'>;
}

/** A transcript in the shape every response format is made from, local or upstream. */
interface Transcript {
  text: string;
  language: string;
  durationS: number;
  segments: readonly TimedText[];
  words?: readonly unknown[];
}

const FORMATS = ['json', 'text', 'verbose_json', 'srt', 'vtt'] as const;
type ResponseFormat = (typeof FORMATS)[number];

interface Fields {
  file?: Buffer;
  filename?: string;
  mimetype?: string;
  model?: string;
  language?: string;
  prompt?: string;
  temperature?: string;
  response_format?: string;
  granularities: string[];
}

/** The multipart parser's limits; a text field longer than FIELD_BYTES is refused, never cut short. */
const FIELD_BYTES = 65_536;
const MULTIPART_LIMITS = { files: 1, fields: 20, fieldSize: FIELD_BYTES, fieldNameSize: 100, parts: 30 };

class PayloadTooLargeError extends AgentPhoneError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message, { status: 413 });
  }
}

/**
 * What went wrong reading the form, as the client's fault: busboy's own errors (no boundary,
 * a malformed part) are plain Errors that would otherwise answer 500.
 */
function multipartError(err: unknown, fileLimit: number): AgentPhoneError {
  if (err instanceof AgentPhoneError) return err;
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new PayloadTooLargeError(`file: the audio file is larger than the ${Math.round(fileLimit / 1_048_576)} MB limit`);
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new PayloadTooLargeError(`body: at most one file and ${MULTIPART_LIMITS.fields} fields are accepted`);
    case 'FST_PROTO_VIOLATION':
      return new ValidationError('body: a field name is not allowed');
  }
  const detail = err instanceof Error && err.message.length < 200 ? `: ${err.message}` : '';
  return new ValidationError(`body: not valid multipart/form-data${detail}`);
}

/** Whisper's languages, looked up as own keys only (`constructor` is not a language). */
const isLanguage = (code: string): boolean => Object.hasOwn(LANGUAGE_NAMES, code);

/** Aborts when the client disconnects before the answer is sent. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** POST /v1/audio/transcriptions: OpenAI-compatible, multipart/form-data. */
export const transcriptionRoutes: FastifyPluginAsync<TranscriptionRoutesOptions> = async (app, options) => {
  const limit = options.maxAudioBytes;
  const meter = new KeyUsageMeter(options.usage);
  await app.register(multipart, { limits: { fileSize: limit, ...MULTIPART_LIMITS } });

  app.post(
    '/audio/transcriptions',
    {
      bodyLimit: limit + 1_048_576,
      schema: {
        summary: 'Transcribe audio (OpenAI-compatible; multipart/form-data with file, model, language, prompt, temperature, response_format)',
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (!request.isMultipart()) throw new ValidationError('Content-Type must be multipart/form-data with a file field');
      const fields: Fields = { granularities: [] };
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file') throw new ValidationError(`${part.fieldname}: unexpected file field; send the audio as "file"`);
            fields.file = await part.toBuffer();
            fields.filename = part.filename;
            fields.mimetype = part.mimetype;
          } else {
            if (part.valueTruncated || part.fieldnameTruncated) {
              throw new PayloadTooLargeError(`${part.fieldname.slice(0, 100)}: a form field may hold at most ${FIELD_BYTES} bytes`);
            }
            const value = String(part.value);
            if (part.fieldname === 'timestamp_granularities[]' || part.fieldname === 'timestamp_granularities') fields.granularities.push(value);
            else if (['model', 'language', 'prompt', 'temperature', 'response_format'].includes(part.fieldname)) {
              fields[part.fieldname as 'model'] = value;
            }
          }
        }
      } catch (err) {
        throw multipartError(err, limit);
      }
      if (!fields.file) throw new ValidationError('file: required');
      const format = (fields.response_format ?? 'json') as ResponseFormat;
      if (!FORMATS.includes(format)) throw new ValidationError(`response_format: must be one of ${FORMATS.join(', ')}`);
      const temperature = fields.temperature === undefined ? undefined : Number(fields.temperature);
      if (temperature !== undefined && !(temperature >= 0 && temperature <= 1)) throw new ValidationError('temperature: must be a number between 0 and 1');
      if (fields.language !== undefined && !isLanguage(fields.language)) throw new ValidationError('language: must be an ISO-639-1 code Whisper knows (e.g. "en")');
      for (const g of fields.granularities) {
        if (g !== 'segment' && g !== 'word') throw new ValidationError('timestamp_granularities[]: must be word or segment');
      }
      const wantWords = fields.granularities.includes('word');
      if (wantWords && format !== 'verbose_json') throw new ValidationError('timestamp_granularities[]: word timestamps need response_format verbose_json');
      // As OpenAI does: segments unless the granularities asked for name only words.
      const wantSegments = fields.granularities.length === 0 || fields.granularities.includes('segment');
      const model = fields.model && fields.model !== 'whisper-1' ? fields.model : (options.defaultModel ?? 'whisper-large-v3');
      const upstream = options.upstreams?.transcription.get(model);
      if (!upstream) options.whisper.resolve(model); // 404 / 503 before any audio work

      const signal = clientGone(reply);
      const file = fields.file;
      const local = (): Promise<Transcript> =>
        options.whisper.transcribeFile(file, 'file', {
          model,
          ...(fields.language !== undefined && { language: fields.language }),
          ...(fields.prompt !== undefined && { prompt: fields.prompt }),
          ...(temperature !== undefined && { temperature }),
          words: wantWords,
          signal,
        });
      const remote = async (): Promise<Transcript> => {
        const answer = await (upstream as NonNullable<typeof upstream>).transcribe(
          {
            file,
            filename: fields.filename ?? 'audio',
            mimetype: fields.mimetype ?? 'application/octet-stream',
            ...(fields.language !== undefined && { language: fields.language }),
            ...(fields.prompt !== undefined && { prompt: fields.prompt }),
            ...(temperature !== undefined && { temperature }),
            granularities: fields.granularities,
          },
          signal,
        );
        // Metered from the engine's duration; measured here (decode gives 16 kHz) when its answer has none.
        const durationS = answer.durationS ?? (await options.whisper.decode(file, signal).then((a) => a.length / 16_000, () => 0));
        return { ...answer, language: answer.language ?? fields.language ?? 'en', durationS, ...(wantWords && { words: answer.words ?? [] }) };
      };
      const result = upstream && options.upstreams ? await options.upstreams.orLocal(model, remote, local) : await local();
      await meter.recordTranscriptionSeconds(principal.keyId, result.durationS, options.clock.now());

      switch (format) {
        case 'json':
          return { text: result.text };
        case 'text':
          return reply.type('text/plain; charset=utf-8').send(result.text);
        case 'srt':
          return reply.type('text/plain; charset=utf-8').send(toSrt(result.segments));
        case 'vtt':
          return reply.type('text/vtt; charset=utf-8').send(toVtt(result.segments));
        case 'verbose_json':
          return {
            task: 'transcribe',
            language: isLanguage(result.language) ? LANGUAGE_NAMES[result.language] : result.language,
            duration: Math.round(result.durationS * 100) / 100,
            text: result.text,
            ...(wantWords && { words: result.words ?? [] }),
            ...(wantSegments && { segments: result.segments }),
          };
      }
    },
  );
};
