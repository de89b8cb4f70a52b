import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Clock } from '../../../clock/index.ts';
import { UnavailableError, ValidationError } from '../../../errors/index.ts';
import { FFMPEG_MISSING, ffmpegAvailable, UnknownModelError } from '../../../inference/index.ts';
import {
  CONTENT_TYPES,
  encodeWithFfmpeg,
  findVoice,
  SAMPLE_RATE_HZ,
  VOICES,
  wavHeader,
  type TtsService,
} from '../../../inference/runners/tts/index.ts';
import type { KeyUsageMeter } from '../../../metering/index.ts';
import { principalOf } from '../../auth.ts';
import { openAiErrorResponses } from './error-schema.ts';
import { clientGone } from './chat.ts';

export interface SpeechRoutesOptions {
  tts: TtsService;
  meter: KeyUsageMeter;
  clock: Clock;
  defaultModel: string;
  maxInputChars: number;
}

/** Model names the OpenAI SDK and docs use; they mean "the default TTS model". */
const OPENAI_TTS_MODELS = new Set(['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts']);

const SpeechBody = Type.Object(
  {
    input: Type.String({ minLength: 1 }),
    voice: Type.String({ minLength: 1 }),
    model: Type.Optional(Type.String({ minLength: 1 })),
    response_format: Type.Optional(Type.Union([Type.Literal('wav'), Type.Literal('pcm'), Type.Literal('mp3'), Type.Literal('opus'), Type.Literal('flac'), Type.Literal('aac')])),
    speed: Type.Optional(Type.Number({ minimum: 0.25, maximum: 4 })),
    instructions: Type.Optional(Type.String()),
    stream_format: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/**
 * POST /v1/audio/speech: Orpheus TTS. `wav` (default) is sent whole with an exact header; `pcm`
 * (24 kHz s16le mono) streams as the audio is made; mp3/opus/flac stream through ffmpeg.
 */
export const speechRoutes: FastifyPluginAsyncTypebox<SpeechRoutesOptions> = async (app, options) => {
  const { tts, meter, clock } = options;
  app.post(
    '/audio/speech',
    {
      schema: {
        summary: 'Text to speech (Orpheus, 24 kHz)',
        security: [{ bearer: [] }],
        body: SpeechBody,
        response: { 200: Type.Unknown({ description: 'audio bytes' }), ...openAiErrorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      if (body.input.length > options.maxInputChars) {
        throw new ValidationError(`body.input: at most ${options.maxInputChars} characters are accepted (got ${body.input.length}); split the text`);
      }
      const voice = findVoice(body.voice);
      if (!voice) throw new ValidationError(`body.voice: unknown voice "${body.voice}"; valid voices: ${VOICES.map((v) => v.id).join(', ')}`);
      const models = new Set([...OPENAI_TTS_MODELS, options.defaultModel, voice.model]);
      // The same 404 model_not_found as every /api/v1 route, naming what this voice accepts.
      if (body.model !== undefined && !models.has(body.model)) throw new UnknownModelError(body.model, [...models], `for voice ${voice.id}`);
      if (body.speed !== undefined && body.speed !== 1) throw new ValidationError('body.speed: Orpheus speaks at its own pace; omit speed or use 1');
      const format = body.response_format ?? 'wav';
      if (format === 'aac') throw new ValidationError('body.response_format: aac is not offered; use wav, pcm, mp3, opus or flac');
      if ((format === 'mp3' || format === 'opus' || format === 'flac') && !(await ffmpegAvailable())) {
        throw new UnavailableError(`response_format ${format} ${FFMPEG_MISSING}; wav and pcm work without it`, { retryable: false });
      }
      tts.check(voice);
      const signal = clientGone(reply);
      let samples = 0;
      const meterNow = () => meter.recordSpeechSeconds(principal.keyId, samples / SAMPLE_RATE_HZ, clock.now());
      async function* pcm(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of tts.synthesize(body.input, voice as NonNullable<typeof voice>, signal)) {
            samples += chunk.length / 2;
            yield chunk;
          }
        } finally {
          await meterNow();
        }
      }
      void reply.header('content-type', CONTENT_TYPES[format]);
      if (format === 'wav') {
        const chunks: Buffer[] = [];
        for await (const chunk of pcm()) chunks.push(chunk);
        const data = Buffer.concat(chunks);
        return reply.send(Buffer.concat([wavHeader(data.length, SAMPLE_RATE_HZ), data]));
      }
      if (format === 'pcm') {
        void reply.header('x-sample-rate', String(SAMPLE_RATE_HZ));
        return reply.send(Readable.from(pcm()));
      }
      return reply.send(Readable.from(encodeWithFfmpeg(pcm(), format, signal)));
    },
  );
};
