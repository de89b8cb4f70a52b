/**
 * Wake-up latency of the cluster's notifier: from notify() on one node to the handler on
 * another, through a throwaway PostgreSQL (two PgNotifiers, each its own connections), beside
 * the in-process LocalNotifier measured in the same run. One notification in flight at a time
 * (latency, not throughput), after a warm-up. Issue #17 budgets < 50 ms p99 for a send
 * accepted on one node and carried out on another; this is the bus's share of it.
 * `npm run bench:notify -- <count>` changes the count (default 2,000).
 */
import { performance } from 'node:perf_hooks';
import { createPgNotifier, LocalNotifier, type Notifier } from '../src/cluster/index.ts';
import { silentLogger } from '../src/logging/index.ts';
import { startPostgres } from '../test/helpers/postgres.ts';

const COUNT = Number(process.argv[2] ?? 2000);
const WARMUP = 100;
const CHANNEL = 'bench_wake';

interface Figures {
  p50: number;
  p99: number;
  max: number;
}

/** Milliseconds from each notify() call on `from` to its handler running on `to`. */
async function measure(from: Notifier, to: Notifier, count: number): Promise<Figures> {
  let waiting: { payload: string; resolve: () => void } | undefined;
  const unlisten = await to.listen(CHANNEL, (payload) => {
    if (waiting?.payload === payload) waiting.resolve();
  });
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + count; i++) {
    const payload = String(i);
    const arrived = new Promise<void>((resolve) => (waiting = { payload, resolve }));
    const t0 = performance.now();
    await from.notify(CHANNEL, payload);
    await arrived;
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  await unlisten();
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), max: samples[samples.length - 1] ?? NaN };
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

const logger = silentLogger();
const server = await startPostgres();
try {
  const url = await server.createDatabase();
  const local = new LocalNotifier({ logger });
  const localFigures = await measure(local, local, COUNT);
  await local.close();

  const a = await createPgNotifier({ connection: { connectionString: url }, logger, applicationName: 'bench-a' });
  const b = await createPgNotifier({ connection: { connectionString: url }, logger, applicationName: 'bench-b' });
  const pgFigures = await measure(a, b, COUNT);
  await Promise.all([a.close(), b.close()]);

  console.log(`notify → handler, ${COUNT} notifications one at a time (after ${WARMUP} warm-up)`);
  console.log(`  LocalNotifier (in-process):          p50 ${fmt(localFigures.p50)}  p99 ${fmt(localFigures.p99)}  max ${fmt(localFigures.max)}`);
  console.log(`  PgNotifier A → B (two connections):  p50 ${fmt(pgFigures.p50)}  p99 ${fmt(pgFigures.p99)}  max ${fmt(pgFigures.max)}`);
  console.log(`  ratio PgNotifier / LocalNotifier:    p50 ×${(pgFigures.p50 / localFigures.p50).toFixed(0)}  p99 ×${(pgFigures.p99 / localFigures.p99).toFixed(0)}`);
  console.log(`  added by the cross-node bus at p99:  ${fmt(pgFigures.p99 - localFigures.p99)} (issue #17 budget for the whole cross-node send: < 50 ms)`);
} finally {
  await server.stop();
}
