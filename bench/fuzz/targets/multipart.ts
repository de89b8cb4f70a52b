/**
 * multipart/form-data bodies through the transcription route itself (its @fastify/multipart
 * registration and field handling) on a bare app with the gateway's error handler. The input's
 * first line is the Content-Type header, so its boundary is fuzzed too. The model lookup
 * refuses every model, so a request ends before any audio work: the wav target covers that.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { errorHandler, notFoundHandler } from '../../../src/api/error-handler.ts';
import { transcriptionRoutes } from '../../../src/api/routes/v1/transcriptions.ts';
import { createValidatorCompiler } from '../../../src/api/validator.ts';
import { NotFoundError } from '../../../src/errors/index.ts';
import type { WhisperService } from '../../../src/inference/index.ts';
import type { UsageRepository } from '../../../src/store/index.ts';
import { tokens } from '../mutate.ts';
import type { FuzzTarget } from '../target.ts';
import { wavFile } from './wav.ts';

const URL_PATH = '/api/v1/audio/transcriptions';
const MAX_AUDIO_BYTES = 1_048_576;

async function app(): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(createValidatorCompiler());
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRequest', (request, _reply, done) => {
    request.principal = { keyId: 'key_fuzz', numberIds: null };
    done();
  });
  const whisper = {
    resolve: () => {
      throw new NotFoundError('the fuzz harness has no models');
    },
  } as unknown as WhisperService;
  const usage = { addForKey: () => undefined } as unknown as UsageRepository;
  await app.register(transcriptionRoutes, { prefix: '/api/v1', whisper, usage, clock: { now: () => 0 }, maxAudioBytes: MAX_AUDIO_BYTES });
  await app.ready();
  return app;
}

/** A request as one input: `<content-type>\n<body>`. */
function request(contentType: string, body: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from(`${contentType}\n`, 'latin1'), body]));
}

async function formRequest(fields: [string, string | Blob, string?][]): Promise<Uint8Array> {
  const form = new FormData();
  for (const [name, value, filename] of fields) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, filename);
  }
  const encoded = new Response(form);
  return request(encoded.headers.get('content-type') ?? '', new Uint8Array(await encoded.arrayBuffer()));
}

async function seeds(): Promise<Uint8Array[]> {
  const wav = new Blob([wavFile({ format: 1, channels: 1, rateHz: 16_000, bits: 16, frames: 32 })], { type: 'audio/wav' });
  const handWritten = (boundary: string, body: string) => request(`multipart/form-data; boundary=${boundary}`, new Uint8Array(Buffer.from(body, 'latin1')));
  return [
    await formRequest([['model', 'whisper-1'], ['file', wav, 'a.wav']]),
    await formRequest([['file', wav, 'speech.wav'], ['language', 'en'], ['response_format', 'verbose_json'], ['timestamp_granularities[]', 'word'], ['temperature', '0.2'], ['prompt', 'Names: Zoë, 李']]),
    await formRequest([['model', 'whisper-1'], ['language', 'xx']]),
    await formRequest([['audio', wav, 'a.wav'], ['file', wav, 'b.wav']]),
    handWritten('XyZ', '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF\x00\x00\x00\x00WAVE\r\n--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--XyZ--\r\n'),
    handWritten('"quoted boundary"', '--quoted boundary\r\nContent-Disposition: form-data; name="response_format"\r\n\r\nsrt\r\n--quoted boundary--'),
    request('multipart/form-data', new Uint8Array(Buffer.from('--x\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--x--\r\n'))),
  ];
}

export async function createTarget(): Promise<FuzzTarget> {
  const server = await app();
  return {
    name: 'multipart',
    corpus: {
      seeds: await seeds(),
      dictionary: tokens(
        '\r\n', '--', '\r\n\r\n', 'boundary=', '; boundary="', 'multipart/form-data', 'multipart/mixed', 'Content-Disposition: form-data; name="file"; filename="a.wav"\r\n',
        'Content-Disposition: form-data; name="', 'Content-Type: audio/wav\r\n', "filename*=UTF-8''%E2%82%AC.wav", 'name="timestamp_granularities[]"',
        '__proto__', 'constructor', 'language', 'temperature', 'NaN', '\x00', '"',
      ),
      maxBytes: 8192,
    },
    async run(input) {
      const text = Buffer.from(input);
      const newline = text.indexOf(0x0a);
      // Header values cannot carry control characters; the rest of the first line stays as sent.
      const contentType = (newline < 0 ? 'multipart/form-data' : text.subarray(0, newline).toString('latin1')).replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
      const body = newline < 0 ? text : text.subarray(newline + 1);
      const response = await server.inject({ method: 'POST', url: URL_PATH, headers: { 'content-type': contentType }, payload: body });
      return { status: response.statusCode, body: response.body };
    },
    expected: () => false,
    check(result) {
      const { status, body } = result as { status: number; body: string };
      if (status >= 500) return `HTTP ${status}: ${body}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return `HTTP ${status} with a body that is not JSON: ${body.slice(0, 120)}`;
      }
      const keys = parsed !== null && typeof parsed === 'object' ? Object.keys(parsed).sort().join(',') : '';
      return keys === 'error,message' ? undefined : `HTTP ${status} with a body that is not {error, message}: ${body.slice(0, 120)}`;
    },
    close: () => server.close(),
  };
}
