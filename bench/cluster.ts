/**
 * npm run bench:cluster — gateway nodes on one PostgreSQL (issue #17):
 * - cross-node send latency (nodes in this process, to see the AT+CMGS): API accept on node A →
 *   the AT+CMGS on node B's line (the virtual network's `submit`), against the same send
 *   accepted on node B itself, one at a time;
 * - sends accepted per second through 1, 2 and 3 nodes (gateway processes of their own, 32 sends
 *   in flight spread over the nodes, each to a number on its own line), and through one node on
 *   SQLite for reference; with the CPU each node's process and the PostgreSQL server used per
 *   message (from /proc).
 * Every node shares this machine's cores with the others, the load generator and PostgreSQL
 * (fsync off), so the ratios and the CPU per message, not the absolute rates, are the result.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startPostgres } from '../test/helpers/postgres.ts';
import { startTestGateway } from '../test/helpers/test-gateway.ts';
import { cpuMs, startServer, treeCpuMs, type ServerProcess } from './support/process.ts';

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

const ADMIN = 'bench-admin-token-0123456789';

interface NodeProcess {
  server: ServerProcess;
  /** The number on this node's own line. */
  numberId: string;
}

/** A gateway process on `store` (PostgreSQL URL, or null for SQLite in its data dir) with one virtual line. */
async function nodeProcess(id: string, line: { id: string; number: string }, postgresUrl: string | null): Promise<NodeProcess> {
  const data = join(dir, `p${++dirs}`);
  const config = join(dir, `p${dirs}.yaml`);
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: data,
      server: { host: '127.0.0.1', port: 0 },
      log: { level: 'warn' },
      store: postgresUrl === null ? {} : { postgres: { url: postgresUrl } },
      cluster: { nodeId: id, heartbeatMs: 500, leaseMs: 3000 },
      virtual: { lines: [{ ...line, dialect: 'quectel' }], sendsPerMinute: 600_000, latency: { minMs: 0, maxMs: 0 } },
      rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 },
      metering: { includedSegments: 10_000_000 },
    }),
  );
  const server = await startServer(['src/cli/bin.js', 'start', '--config', config], { AGENTPHONE_ADMIN_TOKEN: ADMIN });
  const admin = { authorization: `Bearer ${ADMIN}` };
  const { numbers } = (await (await fetch(`${server.url}/admin/numbers`, { headers: admin })).json()) as { numbers: Array<{ id: string; phoneNumber: string }> };
  return { server, numberId: numbers.find((n) => n.phoneNumber === line.number)!.id };
}

async function apiKey(via: NodeProcess): Promise<string> {
  const res = await fetch(`${via.server.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{}' });
  return ((await res.json()) as { key: string }).key;
}

/** Sends accepted per second with IN_FLIGHT requests at a time, each node sending to its own line's number. */
async function burst(nodes: NodeProcess[], key: string, total: number, tag: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = next++; i < total; i = next++) {
        const n = nodes[i % nodes.length]!;
        const res = await fetch(`${n.server.url}/api/numbers/${n.numberId}/send/sms`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: `+1666${tag}${String(i).padStart(6, '0')}`, body: 'burst' }),
        });
        if (res.status !== 200) throw new Error(`send answered ${res.status}: ${await res.text()}`);
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

interface Throughput {
  rate: number;
  /** CPU ms of each node's process per message it accepted. */
  nodes: number[];
  /** CPU ms per message of the PostgreSQL server (0 on SQLite). */
  database: number;
}

/** A burst through `nodes`, then the queue left to drain, with the CPU each process used per message. */
async function measure(nodes: NodeProcess[], key: string, databasePid: number | undefined, tag: number): Promise<Throughput> {
  const before = nodes.map((n) => cpuMs(n.server.child.pid!));
  const dbBefore = databasePid === undefined ? 0 : treeCpuMs(databasePid);
  const rate = await burst(nodes, key, BURST, tag);
  // Each node accepted BURST / nodes.length of the sends (and sent them on its own line).
  const nodeCpu = nodes.map((n, i) => (cpuMs(n.server.child.pid!) - before[i]!) / (BURST / nodes.length));
  const database = databasePid === undefined ? 0 : (treeCpuMs(databasePid) - dbBefore) / BURST;
  return { rate, nodes: nodeCpu, database };
}

const pg = await startPostgres();
try {
  const url = await pg.createDatabase('bench');
  const lineA = { id: 'line-a', number: '+15550000021' };
  const lineB = { id: 'line-b', number: '+15550000022' };
  const [a, b] = await Promise.all([node('node-a', lineA, { postgres: { url } }), node('node-b', lineB, { postgres: { url } })]);
  const lite = await node('node-lite', { id: 'line-l', number: '+15550000023' }, {});
  try {
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
  } finally {
    await Promise.allSettled([a.stop(), b.stop(), lite.stop()]);
  }

  // Throughput: each node a process of its own, on a database of its own.
  const throughputUrl = await pg.createDatabase('bench_throughput');
  const lines = [1, 2, 3].map((i) => ({ id: `line-${i}`, number: `+1555000010${i}` }));
  const procs: NodeProcess[] = [];
  try {
    for (const [i, line] of lines.entries()) procs.push(await nodeProcess(`node-${i + 1}`, line, throughputUrl));
    const lite = await nodeProcess('node-lite', { id: 'line-l', number: '+15550000109' }, null);
    procs.push(lite);
    const key = await apiKey(procs[0]!);
    const liteKey = await apiKey(lite);
    await burst(procs.slice(0, 3), key, 300, 8); // warm-up
    await burst([lite], liteKey, 300, 8);
    const results = [];
    for (const n of [1, 2, 3]) results.push(await measure(procs.slice(0, n), key, pg.pid, 3 + n));
    const ref = await measure([lite], liteKey, undefined, 7);
    const cpu = (t: Throughput) => `CPU per message: ${t.nodes.map((c, i) => `node ${i + 1} ${c.toFixed(2)} ms`).join(', ')}${t.database > 0 ? `, PostgreSQL ${t.database.toFixed(2)} ms` : ''}`;
    console.log(`\nsends accepted per second, ${BURST} sends, ${IN_FLIGHT} in flight over the nodes (each node a process; all share this machine's cores)`);
    for (const [i, t] of results.entries()) {
      console.log(`PostgreSQL, through ${i + 1} node${i === 0 ? ' ' : 's'} ${t.rate.toFixed(0).padStart(7)} /s  (×${(t.rate / results[0]!.rate).toFixed(2)} of 1 node)   ${cpu(t)}`);
    }
    console.log(`SQLite, one node             ${ref.rate.toFixed(0).padStart(7)} /s  (PostgreSQL 1 node = ${((results[0]!.rate / ref.rate) * 100).toFixed(1)} %)   ${cpu(ref)}`);
  } finally {
    await Promise.allSettled(procs.map((p) => p.server.stop()));
  }
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
