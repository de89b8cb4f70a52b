/**
 * bench:chat — (1) continuous batching: aggregate tokens/s of the local decoder-only runner on
 * the tiny generated chat model with 1, 4 and 16 concurrent streams (target: 16 streams ≥ 4× the
 * aggregate of 1); (2) time to first token added by the gateway's upstream proxy: a loopback
 * OpenAI engine streamed directly and through the gateway, interleaved in the same run
 * (target: < 2 ms added at the median).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { v1Routes } from '../src/api/routes/v1/index.ts';
import { voiceAiRoutes } from '../src/api/routes/v1/voice-ai.ts';
import { validateConfig } from '../src/config/index.ts';
import { buildCoreApp, createCore } from '../src/core.ts';
import { GREEDY, LocalLlm, writeChatTestModel, type GenerateParams } from '../src/inference/runners/llm/index.ts';
import { silentLogger } from '../src/logging/index.ts';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 64);
const TTFT_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-chat-'));

async function batching(): Promise<void> {
  writeChatTestModel(join(dir, 'chat'));
  const llm = await LocalLlm.start(
    { name: 'tiny-chat', family: 'llm', dir: join(dir, 'chat'), dtype: 'fp32', session: { provider: 'cpu', deviceId: 0, intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all', memoryArena: true } },
    { maxBatch: 16 },
  );
  const params: GenerateParams = { sampling: GREEDY, seed: 1, maxTokens: TOKENS, stopTokens: [] };
  const prompt = Array.from({ length: 24 }, (_, i) => 97 + (i % 26));
  const run = async (streams: number) => {
    const t0 = performance.now();
    const counts = await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        let n = 0;
        for await (const _t of llm.generate([...prompt, 97 + s], params)) n++;
        return n;
      }),
    );
    const s = (performance.now() - t0) / 1000;
    return counts.reduce((a, b) => a + b, 0) / s;
  };
  await run(4); // warm-up
  const results: Record<number, number> = {};
  for (const streams of [1, 4, 16]) results[streams] = Math.max(await run(streams), await run(streams));
  const stats = await llm.stats();
  await llm.close();
  console.log(`continuous batching, tiny GQA model (${TOKENS} tokens per stream, best of 2):`);
  for (const streams of [1, 4, 16]) {
    console.log(`  ${String(streams).padStart(2)} streams: ${results[streams]!.toFixed(0).padStart(6)} tokens/s aggregate  (${(results[streams]! / results[1]!).toFixed(2)}× of 1 stream)`);
  }
  console.log(`  largest batch seen: ${stats.maxBatchSeen}; target 16 streams ≥ 4× → ${results[16]! / results[1]! >= 4 ? 'met' : 'NOT met'}`);
}

/** A loopback engine that answers a streamed completion at once: first chunk, then the rest. */
async function upstream(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string) => `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;
      res.write(chunk('first'));
      res.write(chunk(' second'));
      res.end(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\ndata: [DONE]\n\n`);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => server.close() };
}

async function firstTokenMs(url: string, headers: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'Qwen3-Next-80B', messages: [{ role: 'user', content: 'hi' }], stream: true }) });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let ms = NaN;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (Number.isNaN(ms) && text.includes('"content":"first"')) ms = performance.now() - t0;
  }
  return ms;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;

async function proxyOverhead(): Promise<void> {
  const engine = await upstream();
  const config = validateConfig({ dataDir: join(dir, 'gw'), adminToken: 'bench-admin-token-0123456789', log: { level: 'silent' }, rateLimit: { requestsPerSecond: 100_000, burst: 100_000 }, upstreams: [{ model: 'Qwen3-Next-80B', baseUrl: engine.url, upstreamModel: 'up' }] });
  const core = await createCore(config, silentLogger());
  const app = await buildCoreApp(core, { apiRoutes: [(api) => api.register(v1Routes, { prefix: '/v1', ...voiceAiRoutes(core) })] });
  const gw = await app.listen({ host: '127.0.0.1', port: 0 });
  const key = (await core.apiKeys.create({ name: 'bench' })).key;
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let i = 0; i < 20; i++) {
    await firstTokenMs(`${engine.url}/chat/completions`, {});
    await firstTokenMs(`${gw}/api/v1/chat/completions`, { authorization: `Bearer ${key}` });
  }
  for (let i = 0; i < TTFT_ROUNDS; i++) {
    direct.push(await firstTokenMs(`${engine.url}/chat/completions`, {}));
    proxied.push(await firstTokenMs(`${gw}/api/v1/chat/completions`, { authorization: `Bearer ${key}` }));
  }
  await app.close();
  await core.close();
  engine.close();
  const added = pct(proxied, 0.5) - pct(direct, 0.5);
  console.log(`time to first token, loopback engine (${TTFT_ROUNDS} interleaved rounds):`);
  console.log(`  direct      p50 ${pct(direct, 0.5).toFixed(3)} ms  p90 ${pct(direct, 0.9).toFixed(3)} ms`);
  console.log(`  via gateway p50 ${pct(proxied, 0.5).toFixed(3)} ms  p90 ${pct(proxied, 0.9).toFixed(3)} ms  (auth, validation, rate limit, proxy)`);
  console.log(`  added at p50: ${added.toFixed(3)} ms (${(pct(proxied, 0.5) / pct(direct, 0.5)).toFixed(2)}×); target < 2 ms → ${added < 2 ? 'met' : 'NOT met'}`);
}

try {
  await batching();
  await proxyOverhead();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
