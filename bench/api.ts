/**
 * bench:api — sustained POST /api/numbers/:id/send/sms with durable enqueue (auth, validation,
 * segmentation, metering and one SQLite transaction per request), against a bare fastify route
 * returning the same JSON, both in their own process on this machine, in the same run.
 * Targets: ≥ 50 % of the bare route's throughput; p99 < 10 ms at 500 req/s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedRate, saturate, type LoadResult, type Target } from './support/load.ts';
import { cpuMs, startServer as startProcess } from './support/process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Alternating rounds per target; the best of each is kept (the machine may be shared). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const ADMIN = 'bench-admin-token-0123456789';

function row(name: string, r: LoadResult): string {
  return `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(8)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  errors ${r.errors}`;
}

const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-api-'));
const configFile = join(dir, 'config.yaml');
writeFileSync(
  configFile,
  [
    `dataDir: ${join(dir, 'data')}`,
    'server: { host: 127.0.0.1, port: 0 }',
    'log: { level: warn }',
    'rateLimit: { requestsPerSecond: 1000000, burst: 1000000 }',
    'numbers: [ { line: virtual-1, overage: true } ]',
  ].join('\n'),
);

const bare = await startProcess(['--import', 'tsx', 'bench/support/bare-server.ts']);
const gateway = await startProcess(['src/cli/bin.js', 'start', '--config', configFile], { AGENTPHONE_ADMIN_TOKEN: ADMIN });
try {
  const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const { key } = (await (await fetch(`${gateway.url}/admin/keys`, { method: 'POST', headers: admin, body: '{}' })).json()) as { key: string };
  const { numbers } = (await (await fetch(`${gateway.url}/admin/numbers`, { headers: admin })).json()) as { numbers: Array<{ id: string; line: string }> };
  const numberId = numbers.find((n) => n.line === 'virtual-1')!.id;
  const body = (i: number) => JSON.stringify({ to: '+15557654321', body: `Benchmark message ${i}: hello from the agent!` });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const path = `/api/numbers/${numberId}/send/sms`;
  const targets: Record<string, Target> = {
    bare: { url: `${bare.url}${path}`, method: 'POST', headers, body },
    gateway: { url: `${gateway.url}${path}`, method: 'POST', headers, body },
  };

  // Warm both up, then alternate so load from elsewhere on the machine hits both alike.
  await saturate(targets.bare!, 8, 1);
  await saturate(targets.gateway!, 8, 1);
  const results: Record<string, LoadResult[]> = { bare: [], gateway: [] };
  /** CPU each server's process used per request served, over all rounds. */
  const cpu = { bare: { ms: 0, requests: 0 }, gateway: { ms: 0, requests: 0 } };
  const pids = { bare: bare.child.pid!, gateway: gateway.child.pid! };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ['bare', 'gateway'] as const) {
      const before = cpuMs(pids[name]);
      const r = await saturate(targets[name]!, CONNECTIONS, SECONDS / ROUNDS);
      cpu[name].ms += cpuMs(pids[name]) - before;
      cpu[name].requests += r.rps * r.seconds;
      results[name]!.push(r);
    }
  }
  const perRequestUs = (c: { ms: number; requests: number }) => (c.ms * 1000) / c.requests;
  const best = (rs: LoadResult[]) => rs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const bareBest = best(results.bare!);
  const gwBest = best(results.gateway!);
  const at500 = await fixedRate(targets.gateway!, 500, 5);
  const bareAt500 = await fixedRate(targets.bare!, 500, 5);

  console.log(`bench:api — ${CONNECTIONS} connections, best of ${ROUNDS} alternating rounds × ${SECONDS / ROUNDS} s each, then 500 req/s for 5 s`);
  console.log(row('bare fastify route', bareBest));
  console.log(row('gateway send/sms', gwBest));
  console.log(row('bare @ 500 req/s', bareAt500));
  console.log(row('gateway @ 500 req/s', at500));
  console.log(`throughput ratio gateway/bare: ${((gwBest.rps / bareBest.rps) * 100).toFixed(1)} % (target ≥ 50 %)`);
  console.log(
    `CPU per request: gateway ${perRequestUs(cpu.gateway).toFixed(0)} µs, bare ${perRequestUs(cpu.bare).toFixed(0)} µs ` +
      `(bare/gateway ${((perRequestUs(cpu.bare) / perRequestUs(cpu.gateway)) * 100).toFixed(1)} %: the throughput ratio where each has a core of its own)`,
  );
  console.log(`gateway p99 at 500 req/s: ${at500.p99.toFixed(2)} ms (target < 10 ms); statuses ${JSON.stringify(at500.statuses)}`);
} finally {
  await Promise.all([bare.stop(0), gateway.stop(0)]);
  rmSync(dir, { recursive: true, force: true });
}
