import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerMonth } from '../../../src/metering/index.ts';
import { UsageRepository } from '../../../src/store/index.ts';
import { freePort } from '../../helpers/free-port.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { until } from '../../helpers/wait.ts';
import { makeTempDir, testModelsDir, toneWav } from '../helpers.ts';
import { LoopbackUpstream } from '../upstream-server.ts';
import { FakeEngine, metric } from './fake-engines.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

/** `<custom_token_N>` text for frame f, position p: N = 10 + p·4096 + code. */
const tokenText = (f: number, p: number) => `<custom_token_${10 + p * 4096 + ((f * 7 + p) * 13) % 4096}>`;
const FRAMES = 4;

describe('speech upstream engines with replicas, through the gateway (loopback fake engines)', () => {
  const engines = {
    spreadA: new FakeEngine('spread-a'),
    spreadB: new FakeEngine('spread-b'),
    dying: new FakeEngine('dying'),
    steady: new FakeEngine('steady'),
    healthA: new FakeEngine('health-a'),
    healthB: new FakeEngine('health-b'),
    orpheusDying: new FakeEngine('orpheus-dying'),
    orpheus: new FakeEngine('orpheus'),
  };
  const chat = new LoopbackUpstream();
  let url: Record<keyof typeof engines, string>;
  let gw: TestGateway;
  let client: OpenAI;
  let closedA: string;
  let closedB: string;

  beforeAll(async () => {
    url = Object.fromEntries(await Promise.all(Object.entries(engines).map(async ([k, e]) => [k, await e.start()] as const))) as typeof url;
    closedA = `http://127.0.0.1:${await freePort()}/v1`;
    closedB = `http://127.0.0.1:${await freePort()}/v1`;
    const chatUrl = await chat.start();
    engines.dying.dies = true;
    engines.orpheusDying.dies = true;
    for (let f = 0; f < FRAMES; f++) for (let p = 0; p < 7; p++) engines.orpheus.completionPieces.push(tokenText(f, p));
    const stt = { kind: 'transcription', upstreamModel: 'Systran/faster-whisper-large-v3', healthIntervalMs: 0, downMs: 600_000 };
    gw = await startTestGateway(makeTempDir(), {
      inference: { modelsDir: testModelsDir(), workers: 1, maxAudioBytes: 2_000_000 },
      upstreams: [
        { ...stt, model: 'stt-spread', baseUrl: url.spreadA, replicas: [url.spreadB] },
        { ...stt, model: 'stt-failover', baseUrl: url.dying, replicas: [url.steady] },
        { ...stt, model: 'stt-down', baseUrl: closedA, replicas: [closedB] },
        // The local test model of the same name answers when no replica can.
        { ...stt, model: 'whisper-large-v3', baseUrl: closedA, replicas: [closedB], fallback: 'local' },
        { ...stt, model: 'stt-health', baseUrl: url.healthA, replicas: [url.healthB], healthIntervalMs: 50 },
        { model: 'orpheus-3b', baseUrl: url.orpheusDying, replicas: [url.orpheus], upstreamModel: 'canopylabs/orpheus-3b-0.1-ft', healthIntervalMs: 0, downMs: 600_000 },
        { model: 'chat-replicas', baseUrl: closedA, replicas: [chatUrl], upstreamModel: 'loop', healthIntervalMs: 0 },
        { model: 'qwen3-0.6b', baseUrl: closedA, upstreamModel: 'Qwen/Qwen3-0.6B', fallback: 'local' },
      ],
    });
    client = new OpenAI({ apiKey: gw.key, baseURL: `${gw.url}/api/v1`, maxRetries: 0 });
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
    await Promise.all([...Object.values(engines).map((e) => e.stop()), chat.stop()]);
  });

  const minutes = async () => {
    const keyId = (await gw.core.apiKeys.list()).find((k) => k.name === 'test')!.id;
    return (await new UsageRepository(gw.core.store.db).forKey(keyId, ledgerMonth(Date.now()))).ai_transcription_minutes ?? 0;
  };

  it('forwards the upload as multipart and spreads concurrent requests least-busy over two replicas', async () => {
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    engines.spreadA.hold = gate;
    engines.spreadB.hold = gate;
    const before = await minutes();
    const pending = [0, 1, 2, 3].map(async () =>
      client.audio.transcriptions.create({ model: 'stt-spread', file: await toFile(toneWav(1), 'call.wav'), language: 'en', response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] }),
    );
    // All four are in flight at once: two on each replica.
    await until(() => engines.spreadA.transcriptions.length + engines.spreadB.transcriptions.length === 4, 15_000, 'four requests at the engines');
    expect(engines.spreadA.transcriptions).toHaveLength(2);
    expect(engines.spreadB.transcriptions).toHaveLength(2);
    open();
    const answers = await Promise.all(pending);
    for (const a of answers) {
      expect(a.text).toMatch(/^hello from spread-[ab]$/);
      expect(a.duration).toBe(7.5);
      expect(a.language).toBe('english');
      expect(a.words?.map((w) => w.word)).toEqual(['hello', 'from']);
      expect(a.segments?.[0]?.end).toBe(7.5);
    }
    const seen = engines.spreadA.transcriptions[0]!;
    expect(seen.filename).toBe('call.wav');
    expect(seen.fileBytes).toBe(toneWav(1).length);
    expect(seen.fields).toMatchObject({ model: ['Systran/faster-whisper-large-v3'], response_format: ['verbose_json'], language: ['en'], 'timestamp_granularities[]': ['word', 'segment'] });
    // Metered from the engines' verbose_json duration, not the file's one second.
    expect((await minutes()) - before).toBeCloseTo((4 * 7.5) / 60, 6);
    expect(await metric(gw.url, new RegExp(`^agentphone_upstream_requests_total\\{model="stt-spread",replica="${engines.spreadB.label}",outcome="ok"\\}`))).toBe(2);
  });

  it('renders srt from the engine segments, and meters a plain {text} answer by the audio measured locally', async () => {
    const srt = await client.audio.transcriptions.create({ model: 'stt-spread', file: await toFile(toneWav(1), 'a.wav'), response_format: 'srt' });
    expect(String(srt)).toBe('1\n00:00:00,000 --> 00:00:07,500\nhello from spread-a\n');
    engines.spreadA.durationS = undefined;
    engines.spreadB.durationS = undefined;
    const before = await minutes();
    const plain = await client.audio.transcriptions.create({ model: 'stt-spread', file: await toFile(toneWav(3), 'a.wav') });
    expect(plain).toEqual({ text: expect.stringMatching(/^hello from spread-[ab]$/) as unknown as string });
    expect((await minutes()) - before).toBeCloseTo(3 / 60, 6);
  });

  it('fails over to the next replica when one destroys the socket mid-request', async () => {
    const result = await client.audio.transcriptions.create({ model: 'stt-failover', file: await toFile(toneWav(2), 'a.wav') });
    expect(result.text).toBe('hello from steady');
    expect(engines.dying.posts).toBe(1);
    expect(engines.steady.transcriptions).toHaveLength(1);
    expect(await metric(gw.url, new RegExp(`^agentphone_upstream_failures_total\\{model="stt-failover",replica="${engines.dying.label}",reason="unreachable"\\}`))).toBe(1);
    expect(await metric(gw.url, new RegExp(`^agentphone_upstream_replica_up\\{model="stt-failover",replica="${engines.dying.label}"\\}`))).toBe(0);
    // Passed over while down: the next request goes straight to the steady replica.
    await client.audio.transcriptions.create({ model: 'stt-failover', file: await toFile(toneWav(1), 'a.wav') });
    expect(engines.dying.posts).toBe(1);
    expect(engines.steady.transcriptions).toHaveLength(2);
  });

  it('answers 503 in the OpenAI error shape when every replica is down and nothing falls back', async () => {
    const form = new FormData();
    form.append('file', new Blob([toneWav(1)]), 'a.wav');
    form.append('model', 'stt-down');
    const res = await fetch(`${gw.url}/api/v1/audio/transcriptions`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.key}` } });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { type: string }; message: string };
    expect(body.error.type).toBe('server_error');
    expect(body.message).toMatch(/^model stt-down is unavailable: none of its 2 upstream engines could answer \(last: .*cannot be reached \(.*ECONNREFUSED.*\)\)$/);
    // Retryable: the SDKs may try again later (no x-should-retry: false).
    expect(res.headers.get('x-should-retry')).toBeNull();
    // Listed while a replica answers GET /models: stt-spread is, stt-down is not.
    const models: string[] = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models).toEqual(expect.arrayContaining(['stt-spread', 'stt-failover', 'chat-replicas']));
    expect(models).not.toContain('stt-down');
  });

  it('falls back to the local model of the same name when no replica can answer', async () => {
    const before = await metric(gw.url, /^agentphone_upstream_local_fallbacks_total\{model="whisper-large-v3"\}/);
    const minutesBefore = await minutes();
    const result = await client.audio.transcriptions.create({ model: 'whisper-large-v3', file: await toFile(toneWav(2), 'a.wav'), response_format: 'verbose_json', language: 'en', temperature: 0.4 });
    expect(typeof result.text).toBe('string');
    expect(result.duration).toBeCloseTo(2, 2);
    expect((await minutes()) - minutesBefore).toBeCloseTo(2 / 60, 6);
    expect(await metric(gw.url, /^agentphone_upstream_local_fallbacks_total\{model="whisper-large-v3"\}/)).toBe(before + 1);
  }, 120_000);

  it('health checks mark a replica down and up again, and requests follow', async () => {
    const upSeries = new RegExp(`^agentphone_upstream_replica_up\\{model="stt-health",replica="${engines.healthA.label}"\\}`);
    engines.healthA.healthy = false;
    await until(async () => (await metric(gw.url, upSeries)) === 0 || undefined, 15_000, 'replica A marked down');
    const aBefore = engines.healthA.transcriptions.length;
    for (let i = 0; i < 3; i++) expect((await client.audio.transcriptions.create({ model: 'stt-health', file: await toFile(toneWav(1), 'a.wav') })).text).toBe('hello from health-b');
    expect(engines.healthA.transcriptions.length).toBe(aBefore);
    engines.healthA.healthy = true;
    await until(async () => (await metric(gw.url, upSeries)) === 1 || undefined, 15_000, 'replica A marked up');
    // A has started fewer requests, so the next one (nothing in flight) goes to it.
    expect((await client.audio.transcriptions.create({ model: 'stt-health', file: await toFile(toneWav(1), 'a.wav') })).text).toBe('hello from health-a');
    expect(await metric(gw.url, new RegExp(`^agentphone_upstream_failures_total\\{model="stt-health",replica="${engines.healthA.label}",reason="health"\\}`))).toBeGreaterThan(0);
  });

  it('fails Orpheus completions over to the next replica and decodes its audio tokens', async () => {
    const res = await client.audio.speech.create({ model: 'orpheus-3b', voice: 'tara', input: 'Hello there.' });
    const wav = Buffer.from(await res.arrayBuffer());
    expect(wav.readUInt32LE(40)).toBe(FRAMES * 2048 * 2);
    expect(engines.orpheusDying.posts).toBe(1);
    expect(engines.orpheus.completions[0]).toMatchObject({ model: 'canopylabs/orpheus-3b-0.1-ft', stream: true, prompt: expect.stringContaining('tara: Hello there.') as unknown as string });
  });

  it('fails chat over from a replica that refuses connections to one that answers', async () => {
    const completion = await client.chat.completions.create({ model: 'chat-replicas', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('Hello from upstream');
    expect(completion.model).toBe('chat-replicas');
  });

  it('falls chat back to the local model of the same name when its engine cannot be reached', async () => {
    const before = await metric(gw.url, /^agentphone_upstream_local_fallbacks_total\{model="qwen3-0.6b"\}/);
    const completion = await client.chat.completions.create({ model: 'qwen3-0.6b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    expect(completion.model).toBe('qwen3-0.6b');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(await metric(gw.url, /^agentphone_upstream_local_fallbacks_total\{model="qwen3-0.6b"\}/)).toBe(before + 1);
  }, 120_000);
});

describe('the Orpheus LM falling back to the local model when no upstream replica answers', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    const dead = [`http://127.0.0.1:${await freePort()}/v1`, `http://127.0.0.1:${await freePort()}/v1`];
    gw = await startTestGateway(makeTempDir(), {
      inference: { modelsDir: testModelsDir(), workers: 1 },
      // The random-weight LM rarely says stop: a few frames' worth of tokens is enough.
      speech: { maxAudioTokens: 28 },
      upstreams: [{ model: 'orpheus-3b', baseUrl: dead[0], replicas: [dead[1]], upstreamModel: 'canopylabs/orpheus-3b-0.1-ft', fallback: 'local' }],
    });
  }, 120_000);
  afterAll(async () => gw?.stop());

  it('speaks with the local test model and counts the fallback', async () => {
    const client = new OpenAI({ apiKey: gw.key, baseURL: `${gw.url}/api/v1`, maxRetries: 0 });
    const res = await client.audio.speech.create({ model: 'orpheus-3b', voice: 'tara', input: 'Hi.', response_format: 'pcm' });
    // The random-weight LM says something or nothing; what matters is that it answered here.
    expect(Buffer.from(await res.arrayBuffer()).length % 2).toBe(0);
    expect(await metric(gw.url, /^agentphone_upstream_local_fallbacks_total\{model="orpheus-3b"\}/)).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
