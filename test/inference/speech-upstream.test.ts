import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import { v1Routes } from '../../src/api/routes/v1/index.ts';
import { voiceAiRoutes, type VoiceAi } from '../../src/api/routes/v1/voice-ai.ts';
import { validateConfig } from '../../src/config/index.ts';
import { buildCoreApp, createCore, type Core } from '../../src/core.ts';
import { createInference, makeTestModels, type Inference } from '../../src/inference/index.ts';
import { silentLogger } from '../../src/logging/index.ts';

const FRAMES = 5;
/** `<custom_token_N>` text for frame f, position p: N = 10 + p·4096 + code. */
const tokenText = (f: number, p: number) => `<custom_token_${10 + p * 4096 + ((f * 7 + p) * 13) % 4096}>`;

describe('speech with the Orpheus LM on an upstream completions engine (vLLM-style loopback)', () => {
  let dir: string;
  let server: Server;
  const seen: Array<Record<string, unknown>> = [];
  let core: Core;
  let inference: Inference;
  let voiceAi: VoiceAi;
  let app: App;
  let client: OpenAI;

  beforeAll(async () => {
    server = createServer((req, res) => {
      // The gateway's health checks, answered as vLLM does.
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'canopylabs/orpheus-3b-0.1-ft', object: 'model' }] }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url, ...(JSON.parse(Buffer.concat(chunks).toString()) as object) });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const pieces: string[] = [];
        for (let f = 0; f < FRAMES; f++) for (let p = 0; p < 7; p++) pieces.push(tokenText(f, p));
        // One token split across two chunks, two tokens in one chunk, and a non-audio token.
        const texts = ['<custom_token_1>', pieces[0]!.slice(0, 9), pieces[0]!.slice(9), pieces[1]! + pieces[2]!, ...pieces.slice(3)];
        for (const text of texts) res.write(`data: ${JSON.stringify({ id: 'cmpl-1', object: 'text_completion', model: 'up', choices: [{ index: 0, text, finish_reason: null }] })}\n\n`);
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'agentphone-tts-up-'));
    makeTestModels(join(dir, 'models'), ['snac-24khz']);
    const config = validateConfig({
      dataDir: dir,
      adminToken: 'test-admin-token-0123456789',
      log: { level: 'silent' },
      inference: { modelsDir: join(dir, 'models'), workers: 1, session: { provider: 'cpu', intraOpThreads: 1 } },
      upstreams: [{ model: 'orpheus-3b', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, upstreamModel: 'canopylabs/orpheus-3b-0.1-ft' }],
    });
    core = await createCore(config, silentLogger());
    inference = createInference(config, silentLogger(), core.metrics);
    voiceAi = voiceAiRoutes({ ...core, inference });
    app = await buildCoreApp(core, { apiRoutes: [(api) => api.register(v1Routes, { prefix: '/v1', ...voiceAi })] });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ apiKey: (await core.apiKeys.create({ name: 't' })).key, baseURL: `${url}/api/v1`, maxRetries: 0 });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await voiceAi?.close();
    await inference?.close();
    await core?.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the framed prompt as the reference does and decodes the streamed custom tokens to every frame', async () => {
    const res = await client.audio.speech.create({ model: 'orpheus-3b', voice: 'tara', input: 'Hello there <laugh> friend.' });
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.readUInt32LE(24)).toBe(24000);
    expect(wav.readUInt32LE(40)).toBe(FRAMES * 2048 * 2);
    expect(seen[0]).toMatchObject({
      url: '/v1/completions',
      model: 'canopylabs/orpheus-3b-0.1-ft',
      prompt: '<custom_token_3><|begin_of_text|>tara: Hello there <laugh> friend.<|eot_id|><custom_token_4><custom_token_5><custom_token_1>',
      stream: true,
      temperature: 0.6,
      top_p: 0.8,
      repetition_penalty: 1.3,
      stop_token_ids: [128258, 128262, 128009],
    });
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models).toContain('orpheus-3b');
    // The Orpheus upstream is a TTS model, not a chat model.
    const chat = (await client.chat.completions.create({ model: 'orpheus-3b', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as { status: number };
    expect(chat.status).toBe(404);
  });
});
