import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestModels } from '../../src/inference/index.ts';
import { KEY_USAGE_KINDS, KeyUsageMeter, ledgerMonth } from '../../src/metering/index.ts';
import { UsageRepository } from '../../src/store/index.ts';
import { hasCommand, describeWithTool } from '../helpers/system-tool.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';

/** 10 frames of 2048 samples per sentence: the tiny Orpheus emits audio tokens until max tokens. */
const AUDIO_TOKENS = 70;
const SENTENCE_BYTES = 10 * 2048 * 2;

function parseWav(buf: Buffer) {
  expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
  expect(buf.readUInt32LE(4)).toBe(buf.length - 8);
  expect(buf.toString('ascii', 8, 16)).toBe('WAVEfmt ');
  expect(buf.toString('ascii', 36, 40)).toBe('data');
  return {
    format: buf.readUInt16LE(20),
    channels: buf.readUInt16LE(22),
    sampleRate: buf.readUInt32LE(24),
    bits: buf.readUInt16LE(34),
    dataBytes: buf.readUInt32LE(40),
    samples: new Int16Array(buf.buffer.slice(buf.byteOffset + 44, buf.byteOffset + buf.length)),
  };
}

describe('speech and local chat through the gateway (tiny generated models, real onnxruntime, openai SDK)', () => {
  let dataDir: string;
  let gateway: Awaited<ReturnType<typeof startTestGateway>>;
  let client: OpenAI;
  let keyId: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'agentphone-speech-'));
    const modelsDir = join(dataDir, 'models');
    makeTestModels(modelsDir, ['orpheus-3b', 'snac-24khz', 'qwen3-0.6b']);
    gateway = await startTestGateway(dataDir, {
      inference: { modelsDir, workers: 1, session: { provider: 'cpu', intraOpThreads: 1, interOpThreads: 1 } },
      speech: { maxAudioTokens: AUDIO_TOKENS },
      upstreams: [],
      chat: { defaultModel: 'qwen3-0.6b' },
    });
    const created = await gateway.core.apiKeys.create({ name: 'speech' });
    keyId = created.id;
    client = new OpenAI({ apiKey: created.key, baseURL: `${gateway.url}/api/v1`, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('returns a WAV that parses: 24 kHz mono 16-bit, every frame of every sentence, metered in minutes', async () => {
    const res = await client.audio.speech.create({ model: 'orpheus-3b', voice: 'tara', input: 'Hello world, welcome here. <laugh> This is AgentPhone speaking.' });
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = parseWav(Buffer.from(await res.arrayBuffer()));
    expect([wav.format, wav.channels, wav.sampleRate, wav.bits]).toEqual([1, 1, 24000, 16]);
    expect(wav.dataBytes).toBe(2 * SENTENCE_BYTES);
    expect(wav.samples.some((s) => Math.abs(s) > 100)).toBe(true);
    const usage = await new KeyUsageMeter(new UsageRepository(gateway.core.store.db)).forKey(keyId, ledgerMonth(Date.now()));
    expect(usage[KEY_USAGE_KINDS.speechMinutes]).toBeCloseTo((2 * 10 * 2048) / 24000 / 60, 9);
  });

  it('streams raw 24 kHz s16le for response_format pcm', async () => {
    const res = await client.audio.speech.create({ model: 'tts-1', voice: 'leo', input: 'Just one sentence here.', response_format: 'pcm' });
    expect(res.headers.get('content-type')).toBe('audio/pcm');
    const reader = res.body!.getReader();
    let bytes = 0;
    let reads = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      reads++;
    }
    expect(bytes).toBe(SENTENCE_BYTES);
    expect(reads).toBeGreaterThan(1); // window by window, not one buffered body
  });

  it('refuses an unknown voice naming the valid ones, an overlong input, and a voice whose model is not configured', async () => {
    const post = (body: object) =>
      fetch(`${gateway.url}/api/v1/audio/speech`, { method: 'POST', headers: { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const unknown = await post({ input: 'hi', voice: 'nova' });
    expect(unknown.status).toBe(400);
    const body = (await unknown.json()) as { error: { type: string; param: string }; message: string };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'voice' });
    expect(body.message).toMatch(/^body\.voice: unknown voice "nova"; valid voices: tara, leah, jess, leo, dan, mia, zac, zoe, pierre/);
    const long = await post({ input: 'x'.repeat(4097), voice: 'tara' });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { message: string }).message).toBe('body.input: at most 4096 characters are accepted (got 4097); split the text');
    const french = await post({ input: 'Bonjour.', voice: 'pierre' });
    expect(french.status).toBe(503);
    expect(await french.json()).toMatchObject({
      error: { type: 'server_error' },
      message: 'voice pierre needs model orpheus-3b-fr (orpheus), which is not configured: add it to inference.models',
    });
  });

  it('lists voices with their language, and local models with the test marker', async () => {
    const res = await fetch(`${gateway.url}/api/v1/voices`, { headers: { authorization: `Bearer ${gateway.key}` } });
    const { voices } = (await res.json()) as { voices: Array<{ id: string; name: string; language: string }> };
    expect(voices[0]).toEqual({ id: 'tara', name: 'Tara', language: 'en' });
    expect(voices.length).toBeGreaterThanOrEqual(24);
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models.map((m) => m.id)).toEqual(expect.arrayContaining(['qwen3-0.6b', 'orpheus-3b']));
    // The SNAC decoder is a part of TTS, not a model a request can name.
    expect(models.map((m) => m.id)).not.toContain('snac-24khz');
    expect(models.find((m) => m.id === 'qwen3-0.6b')).toMatchObject({ object: 'model', owned_by: 'agentphone-test' });
  });

  it('answers chat completions from the local runner, streamed and not, the same for the same seed', async () => {
    const request = { model: 'qwen3-0.6b', messages: [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hello!' }], max_tokens: 8, seed: 42, temperature: 0.7 };
    const completion = await client.chat.completions.create(request);
    expect(completion.model).toBe('qwen3-0.6b');
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(['stop', 'length']).toContain(completion.choices[0]?.finish_reason);
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(8);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(10);
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(completion.choices[0]?.message.content);
    expect(usage).toEqual(completion.usage);
    const ledger = await new KeyUsageMeter(new UsageRepository(gateway.core.store.db)).forKey(keyId, ledgerMonth(Date.now()));
    expect(ledger[KEY_USAGE_KINDS.chatCompletionTokens]).toBe(2 * (completion.usage?.completion_tokens ?? 0));
  });

  describeWithTool('compressed formats through ffmpeg', hasCommand('ffmpeg', ['-version']), 'ffmpeg (Debian package ffmpeg)', () => {
    it('encodes mp3, opus (Ogg) and flac', async () => {
      const magic = async (format: 'mp3' | 'opus' | 'flac') => {
        const res = await client.audio.speech.create({ model: 'orpheus-3b', voice: 'tara', input: 'Short.', response_format: format });
        return { type: res.headers.get('content-type'), head: Buffer.from(await res.arrayBuffer()).subarray(0, 4) };
      };
      const mp3 = await magic('mp3');
      expect(mp3.type).toBe('audio/mpeg');
      expect(mp3.head.toString('latin1', 0, 3) === 'ID3' || (mp3.head[0] === 0xff && (mp3.head[1]! & 0xe0) === 0xe0)).toBe(true);
      expect(await magic('opus')).toMatchObject({ type: 'audio/ogg' });
      expect((await magic('opus')).head.toString('latin1')).toBe('OggS');
      expect((await magic('flac')).head.toString('latin1')).toBe('fLaC');
    });
  });
});
