/**
 * MMS benchmark.
 * 1. Codec: encode + decode of a 3-part 500 KB m-send-req (SMIL, text, two images), in
 *    messages/s, against a memcpy baseline of the same bytes measured in the same run.
 * 2. End to end on loopback: POST /send/sms with one media URL → media fetched → m-send-req
 *    to the virtual MMSC → the subscriber's MMS inbox; p50/p99 against a plain SMS to the same
 *    subscriber in the same gateway (virtual network latency 0).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../src/config/index.ts';
import { startGateway } from '../src/gateway.ts';
import { silentLogger } from '../src/logging/index.ts';
import { composeSendReq, decodeMms, encodeMms } from '../src/mms/index.ts';

const ROUNDS = Number(process.argv[2] ?? 200);
const E2E = Number(process.argv[3] ?? 40);

function codec(): void {
  const jpeg = new Uint8Array(randomBytes(380_000));
  jpeg.set([0xff, 0xd8, 0xff]);
  const png = new Uint8Array(randomBytes(110_000));
  const pdu = composeSendReq({
    to: ['+15559876543'],
    text: 'Three parts, half a megabyte. '.repeat(100),
    media: [
      { contentType: 'image/jpeg', name: 'photo.jpg', data: jpeg },
      { contentType: 'image/png', name: 'diagram.png', data: png },
    ],
    transactionId: 'bench',
  });
  const size = encodeMms(pdu).length;
  const time = (fn: () => void) => {
    for (let i = 0; i < 20; i++) fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ROUNDS; i++) fn();
    return Number(process.hrtime.bigint() - t0) / 1e9 / ROUNDS;
  };
  let sink = 0;
  const codecS = time(() => {
    const bytes = encodeMms(pdu);
    sink += decodeMms(bytes).parts?.length ?? 0;
  });
  // Baseline: copying the same bytes twice (what encode + decode cannot avoid at best).
  const parts = pdu.parts ?? [];
  const baselineS = time(() => {
    const one = Buffer.concat(parts.map((p) => p.data));
    sink += Buffer.from(one).length;
  });
  console.log(`codec: ${(size / 1024).toFixed(0)} KB m-send-req, 3 parts + SMIL, ${ROUNDS} rounds (sink ${sink % 7})`);
  console.log(`  encode+decode  ${(1 / codecS).toFixed(0)} messages/s  (${(codecS * 1e3).toFixed(3)} ms each)`);
  console.log(`  memcpy floor   ${(1 / baselineS).toFixed(0)} messages/s  (${(baselineS * 1e3).toFixed(3)} ms each)`);
  console.log(`  ratio          codec takes ${(codecS / baselineS).toFixed(2)}× the copy floor`);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function endToEnd(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-mms-'));
  const image = new Uint8Array(randomBytes(60_000));
  image.set([0xff, 0xd8, 0xff]);
  const media = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(image));
  await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
  const mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}/photo.jpg`;
  const config = validateConfig({
    dataDir: dir,
    adminToken: 'bench-admin-token-0123456789',
    server: { port: 0 },
    log: { level: 'silent' },
    media: { allowPrivateHosts: ['127.0.0.1'] },
    virtual: { latency: { minMs: 0, maxMs: 0 }, sendsPerMinute: 60_000 },
  });
  const gw = await startGateway(config, silentLogger());
  try {
    await new Promise<void>((resolve) => {
      const check = (): void => (gw.pool.lines().every((l) => l.state === 'ready') ? resolve() : void setTimeout(check, 5));
      check();
    });
    const key = (await gw.core.apiKeys.create({ name: 'bench' })).key;
    const numberA = (await gw.core.numbers.list()).find((n) => n.lineId === 'virtual-1')!.id;
    const post = (body: unknown) =>
      fetch(`${gw.url}/api/numbers/${numberA}/send/sms`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const mmsc = gw.mms.mmsc!;
    const net = gw.network!;
    const measure = async (kind: 'mms' | 'sms', i: number): Promise<number> => {
      const to = `+1555700${String(i).padStart(4, '0')}`;
      const t0 = performance.now();
      const arrived = new Promise<void>((resolve) => {
        const source = kind === 'mms' ? mmsc : net;
        const on = (phone: string) => {
          if (phone !== to) return;
          source.off('inbox', on);
          resolve();
        };
        source.on('inbox', on);
      });
      const res = await post(kind === 'mms' ? { to, body: 'bench', media: [mediaUrl] } : { to, body: 'bench' });
      if (res.status !== 200) throw new Error(`send failed: ${res.status} ${await res.text()}`);
      await arrived;
      return performance.now() - t0;
    };
    for (let i = 0; i < 3; i++) await measure('mms', 9000 + i);
    const mms: number[] = [];
    const sms: number[] = [];
    // Interleaved, so load from other processes hits both alike.
    for (let i = 0; i < E2E; i++) {
      mms.push(await measure('mms', i));
      sms.push(await measure('sms', 5000 + i));
    }
    console.log(`end to end on loopback (${E2E} sequential sends each, 60 KB image):`);
    console.log(`  MMS send → subscriber  p50 ${pct(mms, 50).toFixed(1)} ms  p99 ${pct(mms, 99).toFixed(1)} ms`);
    console.log(`  SMS send → subscriber  p50 ${pct(sms, 50).toFixed(1)} ms  p99 ${pct(sms, 99).toFixed(1)} ms  (baseline)`);
    console.log(`  ratio MMS/SMS          p50 ${(pct(mms, 50) / pct(sms, 50)).toFixed(2)}×  p99 ${(pct(mms, 99) / pct(sms, 99)).toFixed(2)}×`);
  } finally {
    await gw.stop();
    media.closeAllConnections();
    media.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

codec();
await endToEnd();
