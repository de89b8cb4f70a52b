import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestModels } from '../../src/inference/index.ts';
import { wavHeader } from '../../src/inference/runners/tts/index.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';

type ApiError = InstanceType<typeof OpenAI.APIError>;

/** A one-second 16 kHz mono WAV of silence. */
function silenceWav(): Buffer {
  const data = Buffer.alloc(16_000 * 2);
  return Buffer.concat([wavHeader(data.length, 16_000), data]);
}

const caught = <T>(p: Promise<T>): Promise<ApiError> =>
  p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(OpenAI.APIError);
      return e as ApiError;
    },
  );

describe('/api/v1 errors as the OpenAI SDK sees them (real gateway, tiny generated models, the openai package)', () => {
  let dataDir: string;
  let gateway: Awaited<ReturnType<typeof startTestGateway>>;
  let requests: string[];
  /** maxRetries 2: a retried error shows up as 3 requests in `requests`. */
  let client: OpenAI;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'agentphone-v1-errors-'));
    const modelsDir = join(dataDir, 'models');
    // whisper-large-v3 stays configured but not installed: the "missing model" case.
    makeTestModels(modelsDir, ['orpheus-3b', 'snac-24khz', 'qwen3-0.6b']);
    gateway = await startTestGateway(dataDir, {
      inference: { modelsDir, workers: 1, session: { provider: 'cpu', intraOpThreads: 1, interOpThreads: 1 } },
      speech: { maxAudioTokens: 70 },
      upstreams: [],
      chat: { defaultModel: 'qwen3-0.6b' },
    });
    requests = [];
    const counting: typeof fetch = (input, init) => {
      requests.push(`${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input)}`);
      return fetch(input, init);
    };
    client = new OpenAI({ apiKey: gateway.key, baseURL: `${gateway.url}/api/v1`, maxRetries: 2, fetch: counting });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives the SDK the reason, type and code of an error, not `404 "Not Found"`', async () => {
    const err = await caught(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }));
    expect(err.status).toBe(404);
    expect(err.message).toBe('404 model "nope" does not exist; available for chat: qwen3-0.6b');
    expect(err.code).toBe('model_not_found');
    expect(err.type).toBe('invalid_request_error');
    // The spec's top-level message is carried as well.
    const raw = await gateway.api('/api/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(await raw.json()).toEqual({
      error: { message: 'model "nope" does not exist; available for chat: qwen3-0.6b', type: 'invalid_request_error', param: null, code: 'model_not_found' },
      message: 'model "nope" does not exist; available for chat: qwen3-0.6b',
    });
  });

  it('answers an unknown model with the same 404 model_not_found on every route that takes one', async () => {
    const errors = await Promise.all([
      caught(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] })),
      caught(client.audio.transcriptions.create({ model: 'nope', file: await toFile(silenceWav(), 'a.wav') })),
      caught(client.audio.speech.create({ model: 'nope', voice: 'tara', input: 'hi' })),
      caught(client.models.retrieve('nope')),
    ]);
    expect(errors.map((e) => [e.status, e.code])).toEqual(Array(4).fill([404, 'model_not_found']));
    expect(errors[2]!.message).toBe('404 model "nope" does not exist; available for voice tara: tts-1, tts-1-hd, gpt-4o-mini-tts, orpheus-3b');
  });

  it('does not make the SDK retry a model that is not installed (503 with x-should-retry: false, one request)', async () => {
    requests.length = 0;
    const err = await caught(client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await toFile(silenceWav(), 'a.wav') }));
    expect(err.status).toBe(503);
    expect(err.message).toBe('503 model whisper-large-v3 is not installed: run agentphone models pull whisper-large-v3');
    expect(err.code).toBe('model_not_installed');
    expect(err.type).toBe('server_error');
    expect(err.headers?.get('x-should-retry')).toBe('false');
    expect(requests).toHaveLength(1);
  });

  it('turns the per-value errors of a union into one line naming the allowed values, with the field as param', async () => {
    const err = await caught(client.chat.completions.create({ model: 'qwen3-0.6b', messages: [{ role: 'robot' as 'user', content: 'hi' }] }));
    expect(err.status).toBe(400);
    expect(err.message).toBe('400 body.messages.0.role: must be one of: system, developer, user, assistant, tool, function');
    expect(err.param).toBe('messages.0.role');
    const types = await caught(client.chat.completions.create({ model: 'qwen3-0.6b', messages: [{ role: 'user', content: 5 as unknown as string }] }));
    expect(types.message).toBe('400 body.messages.0.content: must be a string or an array or null');
  });

  it('answers a missing key and an unknown /api/v1 route in the OpenAI shape', async () => {
    const anonymous = new OpenAI({ apiKey: 'agp_wrong', baseURL: `${gateway.url}/api/v1`, maxRetries: 0 });
    const err = await caught(anonymous.models.list());
    expect([err.status, err.message, err.code]).toEqual([401, '401 Invalid or missing API key', 'invalid_api_key']);
    const res = await gateway.api('/api/v1/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: 'Route GET /api/v1/nope not found', type: 'invalid_request_error', param: null, code: 'not_found' },
      message: 'Route GET /api/v1/nope not found',
    });
    // Outside /api/v1 the spec's shape is unchanged.
    expect(await (await gateway.api('/api/nope')).json()).toEqual({ error: 'Not Found', message: 'Route GET /api/nope not found' });
  });

  it('accepts the speech model aliases README names and refuses an unknown voice with a 400 naming the valid ones', async () => {
    // speed 2 is refused after the model and voice checks: reaching it means both passed.
    for (const model of [undefined, 'tts-1', 'tts-1-hd', 'gpt-4o-mini-tts', 'orpheus-3b']) {
      const err = await caught(client.audio.speech.create({ voice: 'tara', input: 'hi', speed: 2, ...(model && { model }) } as OpenAI.Audio.SpeechCreateParams));
      expect([err.status, err.param], String(model)).toEqual([400, 'speed']);
    }
    const voice = await caught(client.audio.speech.create({ model: 'tts-1', voice: 'nova' as 'alloy', input: 'hi' }));
    expect(voice.status).toBe(400);
    expect(voice.param).toBe('voice');
    expect(voice.message).toMatch(/^400 body\.voice: unknown voice "nova"; valid voices: tara, leah, jess, leo, dan, mia, zac, zoe, pierre/);
  });

  describeWithTool('ffmpeg found when a request needs it', hasCommand('ffmpeg', ['-version']), 'ffmpeg (apt-get install ffmpeg)', () => {
    it('serves mp3 once ffmpeg appears on PATH, without a restart', { timeout: 120_000 }, async () => {
      const bin = join(dataDir, 'bin');
      mkdirSync(bin);
      const path = process.env.PATH;
      process.env.PATH = bin;
      try {
        const before = await caught(client.audio.speech.create({ model: 'tts-1', voice: 'tara', input: 'Hello there.', response_format: 'mp3' }));
        expect(before.status).toBe(503);
        expect(before.message).toBe('503 response_format mp3 needs ffmpeg, which is not installed (apt-get install ffmpeg); wav and pcm work without it');
        expect(before.headers?.get('x-should-retry')).toBe('false');
        // "Installed" while the gateway runs.
        const which = (path ?? '').split(':').map((d) => join(d, 'ffmpeg')).find((f) => hasCommand(f, ['-version']));
        symlinkSync(which!, join(bin, 'ffmpeg'));
        const res = await client.audio.speech.create({ model: 'tts-1', voice: 'tara', input: 'Hello there.', response_format: 'mp3' });
        expect(res.headers.get('content-type')).toBe('audio/mpeg');
        expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
      } finally {
        process.env.PATH = path;
      }
    });
  });
});
