import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageRepository } from '../../src/store/index.ts';
import { ledgerMonth } from '../../src/metering/index.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { makeTempDir, testModelsDir, toneWav } from './helpers.ts';
import { metricsText } from '../helpers/metrics.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

async function metric(gw: TestGateway, pattern: RegExp): Promise<number> {
  const text = await metricsText(gw.url);
  let total = 0;
  for (const line of text.split('\n')) {
    const m = pattern.exec(line);
    if (m) total += Number(line.split(' ').pop());
  }
  return total;
}

describe('POST /api/v1/audio/transcriptions on generated models', () => {
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway(makeTempDir(), {
      // Random weights never end a window early nor pass the checks: one sample per fallback
      // temperature keeps these requests short (best_of itself: whisper/sampler.test.ts).
      inference: { modelsDir: testModelsDir(), workers: 1, batching: { maxBatch: 4, maxWaitMs: 300 }, maxAudioBytes: 2_000_000, whisper: { bestOf: 1 } },
    });
    client = new OpenAI({ apiKey: gw.key, baseURL: `${gw.url}/api/v1` });
  }, 60_000);
  afterAll(async () => gw?.stop());

  it('transcribes a file through the official openai SDK, in the spec shape {"text"}', async () => {
    const result = await client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await toFile(toneWav(2), 'hello.wav') });
    expect(Object.keys(result)).toEqual(['text']);
    expect(typeof result.text).toBe('string');
  });

  it('answers verbose_json with language, duration and timestamped segments, and srt/vtt', async () => {
    const verbose = await client.audio.transcriptions.create({
      model: 'whisper-large-v3',
      file: await toFile(toneWav(3), 'a.wav'),
      response_format: 'verbose_json',
      timestamp_granularities: ['segment'],
      language: 'en',
      temperature: 0.4,
    });
    expect(verbose.language).toBe('english');
    expect(verbose.duration).toBeCloseTo(3, 2);
    for (const s of verbose.segments ?? []) {
      expect(s.end).toBeGreaterThanOrEqual(s.start);
      expect(s.start).toBeGreaterThanOrEqual(0);
    }
    const vtt = await client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await toFile(toneWav(1), 'a.wav'), response_format: 'vtt', temperature: 0.4 });
    expect(String(vtt)).toMatch(/^WEBVTT/);
  });

  it('gives word timestamps in verbose_json when asked, in order and inside their segments', async () => {
    const file = async () => toFile(toneWav(3), 'a.wav');
    const both = await client.audio.transcriptions.create({
      model: 'whisper-large-v3',
      file: await file(),
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
      language: 'en',
      temperature: 0.4,
    });
    const words = both.words ?? [];
    const segments = both.segments ?? [];
    // The random-weight model says something; its words spell what the segments say.
    expect(segments.length).toBeGreaterThan(0);
    expect(words.map((w) => w.word).join('').replace(/\s+/g, '')).toBe(segments.map((s) => s.text).join('').replace(/\s+/g, ''));
    words.forEach((w, i) => {
      expect(w.end).toBeGreaterThanOrEqual(w.start);
      if (i > 0) expect(w.start).toBeGreaterThanOrEqual(words[i - 1]!.start);
      expect(segments.some((s) => w.start >= s.start - 0.01 && w.end <= s.end + 0.01)).toBe(true);
    });
    const onlyWords = await client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await file(), response_format: 'verbose_json', timestamp_granularities: ['word'], language: 'en', temperature: 0.4 });
    expect(onlyWords.words).toBeDefined();
    expect(onlyWords).not.toHaveProperty('segments');
    const form = new FormData();
    form.append('file', new Blob([toneWav(1)]), 'a.wav');
    form.append('timestamp_granularities[]', 'word');
    const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: 'timestamp_granularities[]: word timestamps need response_format verbose_json' });
  });

  it('meters audio minutes per API key in the key usage ledger', async () => {
    const repo = new UsageRepository(gw.core.store.db);
    const keyId = (await gw.core.apiKeys.list()).find((k) => k.name === 'test')!.id;
    const before = (await repo.forKey(keyId, ledgerMonth(Date.now()))).ai_transcription_minutes ?? 0;
    await client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await toFile(toneWav(6), 'a.wav'), temperature: 0.4 });
    const after = (await repo.forKey(keyId, ledgerMonth(Date.now()))).ai_transcription_minutes ?? 0;
    expect(after - before).toBeCloseTo(6 / 60, 6);
  });

  it('batches concurrent requests for the same model through the encoder', async () => {
    const sumBefore = await metric(gw, /^agentphone_inference_batch_size_sum\{model="whisper-large-v3"\}/);
    const countBefore = await metric(gw, /^agentphone_inference_batch_size_count\{model="whisper-large-v3"\}/);
    await Promise.all([1, 2, 3].map(async (i) => client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await toFile(toneWav(1, 16000, 300 * i), 'a.wav'), language: 'en', temperature: 0.5 })));
    const sum = (await metric(gw, /^agentphone_inference_batch_size_sum\{model="whisper-large-v3"\}/)) - sumBefore;
    const count = (await metric(gw, /^agentphone_inference_batch_size_count\{model="whisper-large-v3"\}/)) - countBefore;
    expect(sum).toBe(3);
    expect(count).toBeLessThan(3);
  });

  it('refuses a file over the limit with 413 in the spec error shape', async () => {
    const form = new FormData();
    form.append('file', new Blob([toneWav(70)]), 'big.wav');
    const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` } });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: expect.stringMatching(/^file: /) as unknown as string });
  });

  it('answers 400 naming the field for a missing file or an undecodable one', async () => {
    const form = new FormData();
    form.append('model', 'whisper-large-v3');
    const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: 'file: required' });
  });

  it('cancels the work when the client disconnects', async () => {
    const cancelledBefore = await metric(gw, /^agentphone_inference_tasks_total\{.*outcome="INFERENCE_CANCELLED"\}/);
    const encodesBefore = await metric(gw, /^agentphone_inference_tasks_total\{model="whisper-large-v3",stage="encode",outcome="ok"\}/);
    const controller = new AbortController();
    const form = new FormData();
    form.append('file', new Blob([toneWav(55)]), 'long.wav');
    form.append('response_format', 'verbose_json');
    const pending = fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` }, signal: controller.signal }).catch((e: unknown) => e);
    while ((await metric(gw, /^agentphone_inference_tasks_total\{model="whisper-large-v3",stage="encode",outcome="ok"\}/)) === encodesBefore) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await pending;
    while ((await metric(gw, /^agentphone_inference_tasks_total\{.*outcome="INFERENCE_CANCELLED"\}/)) === cancelledBefore) await new Promise((r) => setTimeout(r, 10));
    // The pool is free again at once.
    const after = await client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await toFile(toneWav(1), 'a.wav'), language: 'en', temperature: 0.3 });
    expect(typeof after.text).toBe('string');
  });
});

describe('POST /api/v1/audio/transcriptions without model files', () => {
  it('answers 503 with the pull command', async () => {
    const gw = await startTestGateway(makeTempDir(), { inference: { modelsDir: makeTempDir() } });
    try {
      const form = new FormData();
      form.append('file', new Blob([toneWav(1)]), 'a.wav');
      form.append('model', 'whisper-large-v3');
      const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` } });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        error: { type: 'server_error' },
        message: 'model whisper-large-v3 is not installed: run agentphone models pull whisper-large-v3',
      });
    } finally {
      await gw.stop();
    }
  });
});
