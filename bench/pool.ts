/**
 * Pool throughput: N virtual modems (real PTYs, the real driver) at 2 s per AT+CMGS, a batch
 * of single-part messages queued at once; achieved messages/minute against the ceiling
 * N × 30/min, and CPU time per message.
 *
 * Time is scaled so that the run takes seconds while every component still sees 2 s. But
 * scaling multiplies the real cost of each exchange (AT+CMGS → "> " → PDU + Ctrl-Z →
 * +CMGS/OK over the PTY, serialport's reads and writes, timers) by the same factor: 2 ms of
 * real overhead is 100 ms of model time at ×50, 5 % of the ceiling that no pacing could win
 * back. So each N first measures that real overhead directly (×1, no modelled latency) and
 * runs at the largest scale (at most ×50) that keeps it within 2 % of the modelled 2 s, with
 * as many messages (at most 1 000) as fit about 15 s. Scale, overhead and the ratio the
 * overhead alone allows at ×1 are printed with the result. CPU per message is the whole
 * process (gateway, virtual modems and network, background polling) over the run, and
 * over the calibration, where nothing waits, for the exchange alone.
 * `npm run bench:pool -- <scale> <messages>` forces both instead.
 */
import { cpuUsage } from 'node:process';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/logging/index.ts';
import { scaledClock, systemClock, type TimerClock } from '../src/clock/index.ts';
import { createModemPool, createVirtualNetwork } from '../src/modem/index.ts';
import { encodeSubmit } from '../src/sms/index.ts';

const FORCED_SCALE = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
const FORCED_MESSAGES = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const CMGS_MS = 2000;
const MAX_SCALE = 50;
const MAX_MESSAGES = 1000;
/** Scaled overhead allowed, as a share of the modelled AT+CMGS time. */
const OVERHEAD_SHARE = 0.02;
const WALL_BUDGET_MS = 15_000;
const CALIBRATION_ROUNDS = 20;
/** A pacing so loose it never holds a send back. */
const UNPACED = 1e9;

const [pdu] = encodeSubmit({ to: '+15559990000', text: 'bench', requestStatusReport: false });

interface Batch {
  /** Model time from queueing to the last +CMGS. */
  elapsedMs: number;
  wallMs: number;
  cpuMs: number;
}

/** Starts N lines on `clock` with AT+CMGS taking `cmgsMs`, queues `messages` round-robin, waits for all. */
async function batch(n: number, clock: TimerClock, cmgsMs: number, messages: number, messagesPerMinute = 30): Promise<Batch> {
  const fixed = { minMs: cmgsMs, maxMs: cmgsMs };
  const network = createVirtualNetwork({ clock, submitLatency: fixed, deliverLatency: { minMs: 1, maxMs: 1 }, reportLatency: { minMs: 1, maxMs: 1 } });
  for (let i = 0; i < n; i++) network.addLine({ lineId: `l${i}`, number: `+1555010${String(i).padStart(4, '0')}`, dialect: 'quectel' });
  const pool = createModemPool(
    { lines: [], messagesPerMinute, healthIntervalMs: 3_600_000, sendTimeoutMs: 120_000 },
    { logger: silentLogger(), clock, network },
  );
  pool.on('pdu', (p) => void p.confirm());
  await pool.start();
  await new Promise<void>((resolve) => {
    const check = (): void => (pool.lines().every((l) => l.state === 'ready') ? resolve() : void setTimeout(check, 5));
    check();
  });
  const cpu0 = cpuUsage();
  const wall0 = performance.now();
  const t0 = clock.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < messages; i++) sends.push(pool.send(`l${i % n}`, pdu!));
  await Promise.all(sends);
  const elapsedMs = clock.now() - t0;
  const wallMs = performance.now() - wall0;
  const cpu = cpuUsage(cpu0);
  await pool.stop();
  network.close();
  return { elapsedMs, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * Real wall time one line spends per message beyond the modelled AT+CMGS, with N lines busy:
 * rounds of the exchange alone, at ×1, with no modelled latency and pacing out of the way.
 */
async function calibrate(n: number): Promise<{ overheadMs: number; cpuPerMessageMs: number }> {
  const b = await batch(n, systemClock, 0, n * CALIBRATION_ROUNDS, UNPACED);
  return { overheadMs: b.wallMs / CALIBRATION_ROUNDS, cpuPerMessageMs: b.cpuMs / (n * CALIBRATION_ROUNDS) };
}

async function run(n: number): Promise<void> {
  const { overheadMs, cpuPerMessageMs } = await calibrate(n);
  const scale = FORCED_SCALE ?? Math.max(1, Math.min(MAX_SCALE, Math.floor((OVERHEAD_SHARE * CMGS_MS) / overheadMs)));
  const rounds = Math.max(1, Math.floor((WALL_BUDGET_MS * scale) / CMGS_MS));
  const messages = FORCED_MESSAGES ?? Math.min(Math.floor(MAX_MESSAGES / n), rounds) * n;
  const b = await batch(n, scaledClock(scale), CMGS_MS, messages);
  const achieved = messages / (b.elapsedMs / 60_000);
  const ceiling = n * 30;
  const atRealTime = (CMGS_MS / (CMGS_MS + overheadMs)) * 100;
  console.log(
    `N=${String(n).padStart(2)}  ×${String(scale).padStart(2)}  ${String(messages).padStart(4)} msgs  ` +
      `achieved ${achieved.toFixed(1).padStart(6)} msgs/min  ceiling ${String(ceiling).padStart(4)}/min  ` +
      `ratio ${((achieved / ceiling) * 100).toFixed(1)}%  CPU ${(b.cpuMs / messages).toFixed(3)} ms/msg ` +
      `(exchange alone ${cpuPerMessageMs.toFixed(3)})  ` +
      `real overhead ${overheadMs.toFixed(2)} ms/msg (${((overheadMs * scale * 100) / CMGS_MS).toFixed(1)}% of 2 s at ×${scale}; ${atRealTime.toFixed(2)}% at ×1)`,
  );
}

console.log(`bench:pool — single-part messages, ${CMGS_MS} ms per AT+CMGS, real PTYs and the real driver`);
for (const n of [1, 4, 16]) await run(n);
