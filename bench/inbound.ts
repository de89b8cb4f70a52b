/**
 * bench:inbound — from the moment a virtual modem announces a new message (+CMTI) to the
 * moment the agent's webhook receives the signed POST: AT+CMGR over a real PTY, decode,
 * reassembly, one SQLite transaction, outbox, HTTP. Network latency is set to zero and not
 * counted. One message at a time, 1 000 of them; p50 / p99. Target: p99 < 25 ms.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../src/config/index.ts';
import { startGateway } from '../src/gateway.ts';
import { silentLogger } from '../src/logging/index.ts';

const COUNT = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-inbound-'));

let onHook: ((body: string) => void) | undefined;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const received = process.hrtime.bigint();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"action":"ignore"}');
    const { body } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { body: string };
    hookTimes.set(body, received);
    onHook?.(body);
  });
});
const hookTimes = new Map<string, bigint>();
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const config = validateConfig({
  dataDir: join(dir, 'data'),
  adminToken: 'bench-admin-token-0123456789',
  server: { port: 0 },
  log: { level: 'silent' },
  virtual: { latency: { minMs: 0, maxMs: 0 } },
  numbers: [{ line: 'virtual-1', webhookUrl: hookUrl }],
});
const gateway = await startGateway(config, silentLogger());
const network = gateway.network!;
await new Promise<void>((resolve) => {
  const check = () => (gateway.pool.lines().every((l) => l.state === 'ready') ? resolve() : setTimeout(check, 20));
  check();
});

const latenciesMs: number[] = [];
for (let i = 0; i < COUNT; i++) {
  const body = `inbound ${i}`;
  const arrived = new Promise<void>((resolve) => (onHook = (b) => b === body && resolve()));
  const announced = new Promise<bigint>((resolve) =>
    network.once('delivered', () => resolve(process.hrtime.bigint())),
  );
  network.text('+15557654321', '+15550000001', body);
  const t0 = await announced;
  await arrived;
  latenciesMs.push(Number((hookTimes.get(body) as bigint) - t0) / 1e6);
}
await gateway.stop();
receiver.close();
rmSync(dir, { recursive: true, force: true });

latenciesMs.sort((a, b) => a - b);
const q = (p: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(p * latenciesMs.length))]!;
console.log(`bench:inbound — ${COUNT} messages, +CMTI → webhook POST received (network latency excluded)`);
console.log(`p50 ${q(0.5).toFixed(2)} ms   p90 ${q(0.9).toFixed(2)} ms   p99 ${q(0.99).toFixed(2)} ms   max ${q(1).toFixed(2)} ms   (target p99 < 25 ms)`);
