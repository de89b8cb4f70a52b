import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { voiceAiRoutes, type VoiceAi } from '../src/api/routes/v1/voice-ai.ts';
import { validateConfig } from '../src/config/index.ts';
import { createCore, type Core } from '../src/core.ts';
import { UnavailableError } from '../src/errors/index.ts';
import { createInference, makeTestModels, WhisperService, type Inference } from '../src/inference/index.ts';
import { silentLogger } from '../src/logging/index.ts';
import { speechServicesFor } from '../src/speech-services.ts';
import { createVoiceInference, type SpeechServices } from '../src/voice/index.ts';

/**
 * Random weights never pass Whisper's quality checks, so a transcription runs the whole
 * temperature-fallback ladder (best-of sampling at each step up): minutes on a loaded 2-core host.
 */
const TRANSCRIBE_TIMEOUT_MS = 300_000;

/**
 * The voice turn loop on the real voice AI stack: Whisper, Orpheus + SNAC and a local chat
 * model, all tiny generated models run by onnxruntime on the worker pool. Their output is
 * noise; what is checked is that each call reaches its model and returns its kind of result.
 */
describe('speech services for calls (tiny generated models on the inference pool)', () => {
  let dir: string;
  let core: Core;
  let inference: Inference;
  let voiceAi: VoiceAi;
  let services: SpeechServices;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-speech-services-'));
    const modelsDir = join(dir, 'models');
    makeTestModels(modelsDir, ['whisper-large-v3', 'whisper-large-v3-turbo', 'orpheus-3b', 'snac-24khz', 'qwen3-0.6b']);
    const config = validateConfig({
      dataDir: join(dir, 'data'),
      adminToken: 'test-admin-token-0123456789',
      log: { level: 'silent' },
      inference: { modelsDir, workers: 1, session: { provider: 'cpu', intraOpThreads: 1, interOpThreads: 1 } },
      speech: { maxAudioTokens: 70 },
      upstreams: [],
      chat: { defaultModel: 'qwen3-0.6b' },
    });
    core = await createCore(config, silentLogger());
    inference = createInference(config, silentLogger(), core.metrics);
    voiceAi = voiceAiRoutes({ ...core, inference });
    services = speechServicesFor(config, new WhisperService(inference), voiceAi);
  }, 120_000);

  afterAll(async () => {
    await voiceAi?.close();
    await inference?.close();
    await core?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('transcribes 16 kHz audio with voice.sttModel (default whisper-large-v3-turbo), not the API route\'s default', async () => {
    const pcm = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16_000));
    expect(typeof (await services.transcribe(pcm, new AbortController().signal))).toBe('string');
    const tasks = await core.metrics.getSingleMetric('agentphone_inference_tasks_total')?.get();
    const byModel = (model: string) => (tasks?.values ?? []).filter((v) => v.labels.model === model).reduce((n, v) => n + v.value, 0);
    expect(byModel('whisper-large-v3-turbo')).toBeGreaterThan(0);
    expect(byModel('whisper-large-v3')).toBe(0);
  }, TRANSCRIBE_TIMEOUT_MS);

  it('speaks with Orpheus as a stream of 24 kHz 16-bit chunks, and refuses an unknown voice', async () => {
    let bytes = 0;
    for await (const chunk of services.speak('Hello there.', 'tara', new AbortController().signal)) bytes += chunk.byteLength;
    expect(bytes).toBeGreaterThan(0);
    expect(bytes % 2).toBe(0);
    expect(() => services.speak('Hi', 'nobody', new AbortController().signal)).toThrow(UnavailableError);
  });

  it('answers through the default chat model', async () => {
    const reply = await services.chat([{ role: 'user', content: 'Hi' }], new AbortController().signal);
    expect(typeof reply).toBe('string');
  });

  it('binds into the voice port with Silero VAD, timing the model calls', async () => {
    const port = await createVoiceInference(services);
    try {
      const heard = await port.transcribe(new Int16Array(16_000), new AbortController().signal);
      expect(typeof heard.value).toBe('string');
      expect(heard.modelMs).toBeGreaterThan(0);
    } finally {
      await port.close();
    }
  }, TRANSCRIBE_TIMEOUT_MS);
});
