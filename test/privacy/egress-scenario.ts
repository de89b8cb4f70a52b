/**
 * The privacy test's driver, run inside a network namespace that has only loopback (see
 * egress-namespace.test.ts). It starts the test's loopback listeners (webhook receiver, media
 * server, upstream engine), runs `agentphone start` under strace as a process of its own, drives
 * the flows through the gateway's API and admin API and the dashboard in Chromium, and writes
 * what it saw to <out>/result.json. strace watches the gateway only; the driver and the browser
 * are the outside world here.
 *
 *   node --import tsx test/privacy/egress-scenario.ts OUT_DIR full|startup
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestModels } from '../../src/inference/index.ts';
import { toneWav } from '../inference/helpers.ts';
import { LoopbackUpstream } from '../inference/upstream-server.ts';
import { MediaServer, smallJpeg } from '../mms/media-server.ts';
import { until as waitUntil } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { drachtioUnavailable, onPath, runPeer, startDrachtio, type DrachtioServer } from '../helpers/sip-peers.ts';
import { callerScenario } from '../helpers/sipp-scenarios.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = 'privacy-admin-token-0123456789';
const SUBSCRIBER = '+15557654321';
const LINE_A = '+15550000001';
const CHROMIUM = '/usr/bin/chromium';

export interface ScenarioResult {
  mode: string;
  gatewayUrl: string;
  /** Ports of the test's own listeners, by name. */
  listeners: Record<string, number>;
  /** TCP ports listening in the namespace while the gateway ran (the test's, drachtio's and the gateway's). */
  procNetTcp: string[];
  /** UDP sockets bound in the namespace (drachtio's SIP side, sipp's SIP and RTP ports). */
  procNetUdp: string[];
  /** Why no call was made, when none was. */
  voice: string;
  flows: Array<{ name: string; ok: boolean; detail: string }>;
  /** Every request the dashboard page made (URL), or why the browser part did not run. */
  pageRequests: string[];
  browser: string;
  /** Connections each test listener received (proof the flows reached them). */
  hits: Record<string, number>;
  webhookEvents?: string[];
}

const [outDir = '', mode = 'full'] = process.argv.slice(2);

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${text.slice(-2000)}`)), 120_000);
    child.stderr?.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /AgentPhone listening on (http:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}) before listening: ${text.slice(-2000)}`)));
  });
}

async function main(): Promise<void> {
  const dataDir = join(outDir, 'data');
  const modelsDir = join(outDir, 'models');
  const receiver = new WebhookReceiver();
  const media = new MediaServer();
  const upstream = new LoopbackUpstream();
  const hookUrl = await receiver.start();
  await media.start();
  const upstreamUrl = await upstream.start();
  const full = mode === 'full';
  // A call through a real drachtio-server and a sipp caller, when both can run here.
  const sipMissing = drachtioUnavailable() ?? (onPath('sipp') ? undefined : 'sipp (Debian package sip-tester)');
  const drachtio: DrachtioServer | undefined = full && sipMissing === undefined ? await startDrachtio() : undefined;
  if (full) makeTestModels(modelsDir, ['whisper-large-v3', 'orpheus-3b', 'snac-24khz', 'qwen3-0.6b']);
  const config = {
    dataDir,
    adminToken: ADMIN,
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    virtual: { latency: { minMs: 5, maxMs: 15 }, sendsPerMinute: 6000 },
    numbers: [
      { line: 'virtual-1', webhookUrl: hookUrl },
      { line: 'virtual-2', webhookUrl: hookUrl },
    ],
    // Strict: the gateway may reach only what this file names.
    egress: { mode: 'strict' },
    media: { allowPrivateHosts: ['127.0.0.1'] },
    upstreams: [{ model: 'up-model', baseUrl: upstreamUrl, upstreamModel: 'loop' }],
    inference: { modelsDir, workers: 1, session: { provider: 'cpu', intraOpThreads: 1, interOpThreads: 1 } },
    speech: { maxAudioTokens: 70 },
    chat: { defaultModel: 'qwen3-0.6b' },
    ...(drachtio && {
      voice: {
        drachtio: { host: drachtio.host, port: drachtio.port, secret: drachtio.secret },
        trunks: [{ name: 'carrier', host: '127.0.0.1' }],
        mediaAddress: '127.0.0.1',
        rtpBindHost: '127.0.0.1',
        rtpPorts: { min: 47_000, max: 47_019 },
        greeting: 'Hello.',
      },
    }),
  };
  const configFile = join(outDir, 'agentphone.json.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  const trace = join(outDir, 'gateway.strace');
  const gateway = spawn('strace', ['-f', '-qq', '-s', '1', '-e', 'trace=connect,sendto,sendmsg,bind', '-e', 'signal=none', '-o', trace, process.execPath, join(ROOT, 'src/cli/bin.js'), 'start', '--config', configFile], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...(process.env.AGENTPHONE_TEST_EXTRA_CONNECT && { AGENTPHONE_TEST_EXTRA_CONNECT: process.env.AGENTPHONE_TEST_EXTRA_CONNECT }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Buffer[] = [];
  gateway.stdout?.on('data', (d: Buffer) => logs.push(d));
  gateway.stderr?.on('data', (d: Buffer) => logs.push(d));
  const result: ScenarioResult = {
    mode,
    gatewayUrl: '',
    listeners: { receiver: Number(new URL(hookUrl).port), media: Number(new URL(media.base).port), upstream: Number(new URL(upstreamUrl).port) },
    procNetTcp: [],
    procNetUdp: [],
    voice: 'not run',
    flows: [],
    pageRequests: [],
    browser: 'not run',
    hits: {},
  };
  try {
    const url = await waitForListening(gateway);
    result.gatewayUrl = url;
    if (full) await driveFlows(url, receiver, media, upstream, result);
    if (full) result.voice = drachtio ? await call(url, drachtio, result) : `skipped: needs ${sipMissing ?? ''}`;
    result.procNetTcp = ['/proc/net/tcp', '/proc/net/tcp6'].filter(existsSync).map((f) => readFileSync(f, 'utf8'));
  } finally {
    const pid = gatewayPid(gateway);
    if (pid !== undefined) process.kill(pid, 'SIGTERM');
    await new Promise<void>((resolve) => (gateway.exitCode !== null ? resolve() : gateway.on('exit', () => resolve())));
    writeFileSync(join(outDir, 'gateway.log'), Buffer.concat(logs));
    result.hits = { receiver: receiver.received.length, upstream: upstream.requests.length };
    result.webhookEvents = receiver.received.map((h) => String(h.json.event));
    writeFileSync(join(outDir, 'result.json'), JSON.stringify(result, null, 2));
    await Promise.all([receiver.stop(), media.stop(), upstream.stop(), drachtio?.stop()]);
  }
}

/** The node process strace started (its only child). */
function gatewayPid(strace: ChildProcess): number | undefined {
  try {
    const children = readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').trim().split(/\s+/);
    return children[0] ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

async function driveFlows(url: string, receiver: WebhookReceiver, media: MediaServer, upstream: LoopbackUpstream, result: ScenarioResult): Promise<void> {
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${url}/admin${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  await until(async () => {
    const { lines } = (await (await admin('/modems')).json()) as { lines: Array<{ state: string }> };
    return lines.length > 0 && lines.every((l) => l.state === 'ready');
  }, 'the virtual lines to be ready');
  const { key } = (await (await admin('/keys', { method: 'POST', body: JSON.stringify({ name: 'privacy' }) })).json()) as { key: string };
  const api = (path: string, init: RequestInit = {}) => fetch(`${url}/api${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.body && typeof init.body === 'string' && { 'content-type': 'application/json' }), ...(init.headers as Record<string, string>) } });
  const numbers = ((await (await api('/numbers')).json()) as { numbers: Array<{ id: string; phone_number?: string; phoneNumber?: string }> }).numbers;
  const numberA = numbers.find((n) => (n.phone_number ?? n.phoneNumber) === LINE_A)?.id ?? numbers[0]?.id ?? '';

  const flow = async (name: string, run: () => Promise<string>) => {
    try {
      result.flows.push({ name, ok: true, detail: await run() });
    } catch (err) {
      result.flows.push({ name, ok: false, detail: (err as Error).message });
    }
  };
  const inbound = (body: string) => receiver.events('message.inbound').find((h) => h.json.body === body);

  await flow('sms in, webhook out', async () => {
    await admin('/sim/text', { method: 'POST', body: JSON.stringify({ from: SUBSCRIBER, to: LINE_A, body: 'privacy ping' }) });
    await until(() => inbound('privacy ping'), 'the inbound webhook');
    return 'webhook received';
  });
  await flow('sms out', async () => {
    const res = await api(`/numbers/${numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body: 'privacy pong' }) });
    if (res.status >= 300) throw new Error(`send answered ${res.status}: ${await res.text()}`);
    await until(async () => {
      const inbox = (await (await admin(`/sim/inbox?phone=${encodeURIComponent(SUBSCRIBER)}`)).json()) as { messages: Array<{ body?: string; text?: string }> };
      return inbox.messages.some((m) => (m.body ?? m.text) === 'privacy pong');
    }, 'the subscriber to get the SMS');
    return 'delivered to the subscriber';
  });
  const jpeg = await smallJpeg();
  await flow('mms in (virtual MMSC), webhook with media URL', async () => {
    await admin('/sim/mms', { method: 'POST', body: JSON.stringify({ from: SUBSCRIBER, to: LINE_A, body: 'privacy photo', media: [{ name: 'p.jpg', contentType: 'image/jpeg', data: Buffer.from(jpeg).toString('base64') }] }) });
    const hook = await until(() => inbound('privacy photo'), 'the inbound MMS webhook');
    const mediaUrl = (hook.json.media as string[])[0] ?? '';
    const got = await fetch(mediaUrl);
    if (got.status !== 200) throw new Error(`media URL answered ${got.status}`);
    return `media served (${(await got.arrayBuffer()).byteLength} bytes)`;
  });
  await flow('mms out (agent media URL fetched, posted to the virtual MMSC)', async () => {
    const mediaUrl = media.add('/photo.jpg', 'image/jpeg', jpeg);
    const res = await api(`/numbers/${numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body: 'privacy mms out', media: [mediaUrl] }) });
    if (res.status >= 300) throw new Error(`send answered ${res.status}: ${await res.text()}`);
    await until(async () => {
      const inbox = (await (await admin(`/sim/mms-inbox?phone=${encodeURIComponent(SUBSCRIBER)}`)).json()) as { messages: Array<{ body: string }> };
      return inbox.messages.some((m) => m.body === 'privacy mms out');
    }, 'the subscriber to get the MMS');
    return 'delivered through the virtual MMSC';
  });
  await flow('chat through the upstream engine', async () => {
    const res = await api('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'up-model', messages: [{ role: 'user', content: 'hi' }] }) });
    if (res.status !== 200) throw new Error(`chat answered ${res.status}: ${await res.text()}`);
    return `upstream requests: ${upstream.requests.length}`;
  });
  await flow('local chat (tiny qwen3)', async () => {
    const res = await api('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'qwen3-0.6b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }) });
    if (res.status !== 200) throw new Error(`chat answered ${res.status}: ${await res.text()}`);
    return 'answered';
  });
  await flow('speech (tiny orpheus + snac)', async () => {
    const res = await api('/v1/audio/speech', { method: 'POST', body: JSON.stringify({ model: 'orpheus-3b', voice: 'tara', input: 'Hello there.' }) });
    if (res.status !== 200) throw new Error(`speech answered ${res.status}: ${await res.text()}`);
    return `${(await res.arrayBuffer()).byteLength} bytes of audio`;
  });
  await flow('transcription (tiny whisper)', async () => {
    const form = new FormData();
    form.append('model', 'whisper-large-v3');
    form.append('file', new Blob([toneWav(1)], { type: 'audio/wav' }), 'tone.wav');
    const res = await api('/v1/audio/transcriptions', { method: 'POST', body: form });
    if (res.status !== 200) throw new Error(`transcription answered ${res.status}: ${await res.text()}`);
    return 'transcribed';
  });
  await flow('webhook test event', async () => {
    const res = await admin(`/numbers/${numberA}/webhook/test`, { method: 'POST', body: '{}' });
    if (res.status >= 300) throw new Error(`test answered ${res.status}: ${await res.text()}`);
    return 'sent';
  });
  await dashboard(url, result);
}

/**
 * A caller (sipp) rings the first number through drachtio: the gateway answers, speaks its
 * greeting over RTP to sipp's media port, and ends the call on sipp's BYE. UDP sockets bound
 * meanwhile (sipp's SIP and media ports) are read while the call runs.
 */
async function call(url: string, drachtio: DrachtioServer, result: ScenarioResult): Promise<string> {
  const admin = (path: string) => fetch(`${url}/admin${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  await until(async () => ((await (await admin('/voice/status')).json()) as { connected?: boolean }).connected === true, 'voice connected to drachtio');
  const dir = join(outDir, 'sipp');
  mkdirSync(dir, { recursive: true });
  const scenario = callerScenario(dir, { requestUser: LINE_A, toUser: LINE_A, expect: 200, name: 'privacy-call', pauseMs: 2500 });
  const running = runPeer('sipp', ['-sf', scenario, drachtio.sip, '-i', '127.0.0.1', '-p', '0', '-m', '1', '-timeout', '30s', '-nostdin', '-mp', '0'], { cwd: dir, timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 1500));
  result.procNetUdp = ['/proc/net/udp', '/proc/net/udp6'].filter(existsSync).map((f) => readFileSync(f, 'utf8'));
  const res = await running;
  result.flows.push({ name: 'call in (sipp through drachtio), greeting spoken over RTP', ok: res.code === 0, detail: res.code === 0 ? 'answered and hung up' : `sipp exited ${res.code}: ${res.stderr.slice(-500)}` });
  return 'ran';
}

/** The dashboard's pages in headless Chromium; every request the page makes is recorded. */
async function dashboard(url: string, result: ScenarioResult): Promise<void> {
  if (!existsSync(CHROMIUM) || !existsSync(join(ROOT, 'dist/dashboard/index.html'))) {
    result.browser = `skipped: needs ${CHROMIUM} and the built dashboard (npm run build:dashboard)`;
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    page.on('request', (r) => result.pageRequests.push(r.url()));
    await page.goto(url);
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    for (const link of ['Numbers', 'API keys', 'Messages', 'Usage', 'Simulator', 'Overview']) {
      await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).first().click();
      await page.waitForLoadState('networkidle').catch(() => undefined);
    }
    result.browser = 'ran';
  } catch (err) {
    result.browser = `failed: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`scenario failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

/** test/helpers/wait.ts's until, with the description first as the flows read best. */
function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string): Promise<T> {
  return waitUntil(check, 30_000, what);
}
