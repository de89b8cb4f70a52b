/**
 * npm run bench:cluster — gateway nodes on one PostgreSQL (issue #17), in this process:
 * - cross-node send latency: API accept on node A → the AT+CMGS on node B's line (the virtual
 *   network's `submit`), against the same send accepted on node B itself, one at a time;
 * - sends accepted per second through 1 and 2 nodes (32 in flight), and through one node on
 *   SQLite for reference; with the CPU each node's process used per message.
 * Every node shares this machine's cores with the others and with PostgreSQL (fsync off), so the
 * ratios, not the absolute rates, are the result.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startPostgres } from '../test/helpers/postgres.ts';
import { startTestGateway } from '../test/helpers/test-gateway.ts';

type Node = Awaited<ReturnType<typeof startTestGateway>>;

const LATENCY_SENDS = Number(process.env.BENCH_SENDS ?? 200);
const BURST = Number(process.env.BENCH_BURST ?? 2000);
const IN_FLIGHT = 32;
const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-cluster-'));
let dirs = 0;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function node(id: string, line: { id: string; number: string }, store: object): Promise<Node> {
  return startTestGateway(join(dir, `n${++dirs}`), {
    store,
    cluster: { nodeId: id, heartbeatMs: 500, leaseMs: 3000 },
    virtual: { lines: [{ ...line, dialect: 'quectel' }], sendsPerMinute: 600_000, latency: { minMs: 0, maxMs: 0 } },
    rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 },
    metering: { includedSegments: 10_000_000 },
  });
}

const numberOf = async (gw: Node, phone: string): Promise<string> => (await gw.core.numbers.list()).find((n) => n.phoneNumber === phone)!.id;

/** ms from the API's answer to the submit on `line`'s node, one send at a time. */
async function latency(via: Node, driver: Node, numberId: string, count: number, tag: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const to = `+1555${tag}${String(i).padStart(6, '0')}`;
    const submitted = new Promise<number>((resolve) => {
      const on = (e: { to: string }) => {
        if (e.to !== to) return;
        driver.network!.off('submit', on);
        resolve(performance.now());
      };
      driver.network!.on('submit', on);
    });
    const res = await via.api(`/api/numbers/${numberId}/send/sms`, { method: 'POST', body: JSON.stringify({ to, body: 'latency' }) });
    const accepted = performance.now();
    if (res.status !== 200) throw new Error(`send answered ${res.status}`);
    out.push((await submitted) - accepted);
  }
  return out.sort((a, b) => a - b);
}

/** Sends accepted per second with IN_FLIGHT requests at a time, spread over `targets`. */
async function burst(targets: Array<{ via: Node; numberId: string }>, total: number, tag: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = targets[i % targets.length]!;
        const res = await t.via.api(`/api/numbers/${t.numberId}/send/sms`, { method: 'POST', body: JSON.stringify({ to: `+1666${tag}${String(i).padStart(6, '0')}`, body: 'burst' }) });
        if (res.status !== 200) throw new Error(`send answered ${res.status}: ${await res.text()}`);
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const pg = await startPostgres();
try {
  const url = await pg.createDatabase('bench');
  const lineA = { id: 'line-a', number: '+15550000021' };
  const lineB = { id: 'line-b', number: '+15550000022' };
  const [a, b] = await Promise.all([node('node-a', lineA, { postgres: { url } }), node('node-b', lineB, { postgres: { url } })]);
  const lite = await node('node-lite', { id: 'line-l', number: '+15550000023' }, {});
  try {
    const onA = await numberOf(a, lineA.number);
    const onB = await numberOf(a, lineB.number);
    const onLite = await numberOf(lite, '+15550000023');
    await latency(a, b, onB, 20, 9); // warm-up
    const local = await latency(b, b, onB, LATENCY_SENDS, 1);
    const cross = await latency(a, b, onB, LATENCY_SENDS, 2);
    const sqlite = await latency(lite, lite, onLite, LATENCY_SENDS, 3);
    const row = (name: string, v: number[]) => `${name.padEnd(34)} p50 ${quantile(v, 0.5).toFixed(2).padStart(6)} ms  p99 ${quantile(v, 0.99).toFixed(2).padStart(6)} ms`;
    console.log(`bench:cluster — accept → AT+CMGS, ${LATENCY_SENDS} sends one at a time`);
    console.log(row('PostgreSQL, accepted on the line\'s node', local));
    console.log(row('PostgreSQL, accepted on another node', cross));
    console.log(row('SQLite, one node', sqlite));
    console.log(`cross-node adds p50 ${(quantile(cross, 0.5) - quantile(local, 0.5)).toFixed(2)} ms, p99 ${(quantile(cross, 0.99) - quantile(local, 0.99)).toFixed(2)} ms (target: p99 < 50 ms)`);

    console.log(`\nsends accepted per second, ${BURST} sends, ${IN_FLIGHT} in flight (all nodes in this one process: CPU per message is the process's)`);
    let cpu = cpuMs();
    const one = await burst([{ via: a, numberId: onA }, { via: a, numberId: onB }], BURST, 4);
    const cpuOne = (cpuMs() - cpu) / BURST;
    cpu = cpuMs();
    const two = await burst([{ via: a, numberId: onA }, { via: b, numberId: onB }], BURST, 5);
    const cpuTwo = (cpuMs() - cpu) / BURST;
    cpu = cpuMs();
    const ref = await burst([{ via: lite, numberId: onLite }], BURST, 6);
    const cpuRef = (cpuMs() - cpu) / BURST;
    console.log(`PostgreSQL, through 1 node   ${one.toFixed(0).padStart(7)} /s   ${cpuOne.toFixed(2)} ms CPU per message`);
    console.log(`PostgreSQL, through 2 nodes  ${two.toFixed(0).padStart(7)} /s   ${cpuTwo.toFixed(2)} ms CPU per message   (×${(two / one).toFixed(2)} of 1 node)`);
    console.log(`SQLite, one node             ${ref.toFixed(0).padStart(7)} /s   ${cpuRef.toFixed(2)} ms CPU per message   (PostgreSQL 1 node = ${((one / ref) * 100).toFixed(1)} %)`);
  } finally {
    await Promise.allSettled([a.stop(), b.stop(), lite.stop()]);
  }
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
