import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { voiceAiRoutes, type VoiceAi } from '../../../src/api/routes/v1/voice-ai.ts';
import { validateConfig } from '../../../src/config/index.ts';
import { createCore, type Core } from '../../../src/core.ts';
import { createInference, WhisperService, type Inference } from '../../../src/inference/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { speechServicesFor } from '../../../src/speech-services.ts';
import type { SpeechServices } from '../../../src/voice/index.ts';
import { FakeEngine } from './fake-engines.ts';

describe('call utterances transcribed on an upstream transcription engine', () => {
  const engine = new FakeEngine('calls');
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-call-stt-'));
  let stack: { core: Core; inference: Inference; voiceAi: VoiceAi; services: SpeechServices } | undefined;

  beforeAll(async () => {
    const url = await engine.start();
    const config = validateConfig({
      dataDir: dir,
      adminToken: 'test-admin-token-0123456789',
      log: { level: 'silent' },
      // No model files: only the engine can answer.
      inference: { modelsDir: join(dir, 'models'), workers: 1 },
      upstreams: [{ model: 'whisper-large-v3-turbo', kind: 'transcription', baseUrl: url, upstreamModel: 'deepdml/faster-whisper-large-v3-turbo-ct2', healthIntervalMs: 0 }],
    });
    const core = await createCore(config, silentLogger());
    const inference = createInference(config, silentLogger(), core.metrics);
    const voiceAi = voiceAiRoutes({ ...core, inference });
    stack = { core, inference, voiceAi, services: speechServicesFor(config, new WhisperService(inference), voiceAi) };
  });
  afterAll(async () => {
    await stack?.voiceAi.close();
    await stack?.inference.close();
    await stack?.core.close();
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the utterance as a 16 kHz WAV with voice.sttModel and returns the engine text', async () => {
    const text = await stack!.services.transcribe(new Float32Array(16_000).fill(0.1), new AbortController().signal);
    expect(text).toBe('hello from calls');
    expect(engine.transcriptions).toEqual([
      { fields: { model: ['deepdml/faster-whisper-large-v3-turbo-ct2'], response_format: ['verbose_json'] }, filename: 'utterance.wav', fileBytes: 44 + 32_000 },
    ]);
  });
});
