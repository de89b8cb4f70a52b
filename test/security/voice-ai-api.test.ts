import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestModels } from '../../src/inference/index.ts';
import { toneWav } from '../inference/helpers.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { metricsText } from '../helpers/metrics.ts';

/*
 * The OpenAI-compatible voice AI routes under hostile input: uploads whose headers lie, forms
 * that are not forms, fields past their size, names that are Object.prototype's, prompts past
 * the model's context. Each is a 4xx in the spec's shape, never a 500 or a stalled gateway.
 */

const MAX_AUDIO_SECONDS = 20;

/** 16 KB claiming 65,535 channels of 16-bit samples (1.36 GB and 8 s of event loop before). */
function manyChannelsWav(): Buffer {
  const buf = toneWav(0.5);
  buf.writeUInt16LE(65_535, 22);
  buf.writeUInt16LE(2, 32);
  return buf;
}

describe('voice AI routes refuse hostile input with 4xx (tiny generated models)', () => {
  let dataDir: string;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;

  const transcribe = (form: FormData) => fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` } });
  const formWith = (file: Buffer, fields: Record<string, string> = {}) => {
    const form = new FormData();
    form.append('file', new Blob([file]), 'a.wav');
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return form;
  };
  async function metric(pattern: RegExp): Promise<number> {
    const text = await metricsText(gw.url);
    return text
      .split('\n')
      .filter((l) => pattern.test(l))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'agentphone-voice-ai-'));
    const modelsDir = join(dataDir, 'models');
    makeTestModels(modelsDir, ['whisper-large-v3', 'qwen3-0.6b']);
    gw = await startTestGateway(dataDir, {
      inference: { modelsDir, workers: 1, maxAudioSeconds: MAX_AUDIO_SECONDS, session: { provider: 'cpu', intraOpThreads: 1, interOpThreads: 1 } },
      upstreams: [],
      chat: { defaultModel: 'qwen3-0.6b' },
    });
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 400 for a WAV claiming 65,535 channels, from its header', async () => {
    const bytes = manyChannelsWav();
    expect(bytes.length).toBeLessThan(16_500);
    const res = await transcribe(formWith(bytes));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: 'file: WAV channel count 65535 is not supported (1 to 8)' });
  });

  it('answers 400 for a WAV longer than inference.maxAudioSeconds, before decoding it', async () => {
    const res = await transcribe(formWith(toneWav(MAX_AUDIO_SECONDS + 5, 8_000)));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: `file: the audio is 25 s long; at most ${MAX_AUDIO_SECONDS} s are accepted` });
  });

  it('decodes uploaded WAV on an inference worker, not on the event loop', async () => {
    const decoded = /^agentphone_inference_tasks_total\{[^}]*stage="audio_decode"[^}]*outcome="ok"\}/;
    const before = await metric(decoded);
    const res = await transcribe(formWith(toneWav(1, 44_100), { language: 'en', temperature: '0.4' }));
    expect(res.status).toBe(200);
    expect(await metric(decoded)).toBe(before + 1);
  });

  it('answers 400 for multipart/form-data without a boundary', async () => {
    const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, {
      method: 'POST',
      body: '--x\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--x--\r\n',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'multipart/form-data' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: 'body: not valid multipart/form-data: Multipart: Boundary not found' });
  });

  it('answers 400 for a multipart body cut off mid-part', async () => {
    const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, {
      method: 'POST',
      body: '--x\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'multipart/form-data; boundary=x' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: expect.stringMatching(/^body: not valid multipart\/form-data/) as unknown as string });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'xx'])('answers 400 for language=%s', async (language) => {
    const res = await transcribe(formWith(toneWav(0.5), { language }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: 'language: must be an ISO-639-1 code Whisper knows (e.g. "en")' });
  });

  it('answers 413 for a form field over 64 KB instead of cutting it short', async () => {
    const res = await transcribe(formWith(toneWav(0.5), { prompt: 'word '.repeat(14_000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: 'prompt: a form field may hold at most 65536 bytes' });
  });

  it('answers 400 context_length_exceeded for a chat prompt longer than the model context, with both counts', async () => {
    // The tiny chat model's tokenizer is byte-level and its context 2,048 positions.
    const res = await gw.api('/api/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen3-0.6b', messages: [{ role: 'user', content: 'a'.repeat(3000) }], max_tokens: 4 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { type: 'invalid_request_error' },
      message: "body.messages: the prompt has 3019 tokens but qwen3-0.6b's context is 2048 tokens, prompt and answer together; shorten the messages",
    });
  });

  it('ends an answer at the end of the context with finish_reason length, not a 500', async () => {
    const res = await gw.api('/api/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen3-0.6b', messages: [{ role: 'user', content: 'a'.repeat(2020) }], max_tokens: 50, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number }; choices: Array<{ finish_reason: string }> };
    expect(body.usage.prompt_tokens).toBe(2039);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(2048 - 2039);
  });
});
