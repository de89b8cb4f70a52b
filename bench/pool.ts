/**
 * Pool throughput: N virtual modems at 2 s per AT+CMGS, 1 000 single-part messages queued
 * at once. Time is scaled (every component sees 2 s; the wall clock sees 2 s / SCALE), and
 * the achieved rate is compared with the ceiling N × 30/min measured in the same run.
 */
import { cpuUsage } from 'node:process';
import { silentLogger } from '../src/logging/index.ts';
import { createModemPool, createVirtualNetwork, scaledClock } from '../src/modem/index.ts';
import { encodeSubmit } from '../src/sms/index.ts';

const SCALE = Number(process.argv[2] ?? 50);
const MESSAGES = Number(process.argv[3] ?? 1000);
const CMGS_MS = 2000;

async function run(n: number): Promise<void> {
  const clock = scaledClock(SCALE);
  const fixed = { minMs: CMGS_MS, maxMs: CMGS_MS };
  const network = createVirtualNetwork({ clock, submitLatency: fixed, deliverLatency: { minMs: 1, maxMs: 1 }, reportLatency: { minMs: 1, maxMs: 1 } });
  for (let i = 0; i < n; i++) network.addLine({ lineId: `l${i}`, number: `+1555010${String(i).padStart(4, '0')}`, dialect: 'quectel' });
  const pool = createModemPool(
    { lines: [], messagesPerMinute: 30, healthIntervalMs: 3_600_000, sendTimeoutMs: 120_000 },
    { logger: silentLogger(), clock, network },
  );
  pool.on('pdu', (pdu) => void pdu.confirm());
  await pool.start();
  await new Promise<void>((resolve) => {
    const check = (): void => (pool.lines().every((l) => l.state === 'ready') ? resolve() : void setTimeout(check, 5));
    check();
  });
  const [pdu] = encodeSubmit({ to: '+15559990000', text: 'bench', requestStatusReport: false });
  const cpu0 = cpuUsage();
  const t0 = clock.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < MESSAGES; i++) sends.push(pool.send(`l${i % n}`, pdu!));
  await Promise.all(sends);
  const elapsedMin = (clock.now() - t0) / 60_000;
  const cpu = cpuUsage(cpu0);
  const achieved = MESSAGES / elapsedMin;
  const ceiling = n * 30;
  const cpuPerMsgMs = (cpu.user + cpu.system) / 1000 / MESSAGES;
  console.log(
    `N=${String(n).padStart(2)}  achieved ${achieved.toFixed(1).padStart(6)} msgs/min  ceiling ${String(ceiling).padStart(4)}/min  ` +
      `ratio ${(achieved / ceiling * 100).toFixed(1)}%  CPU ${cpuPerMsgMs.toFixed(3)} ms/msg`,
  );
  await pool.stop();
  network.close();
}

console.log(`bench:pool — ${MESSAGES} single-part messages, ${CMGS_MS} ms per AT+CMGS, time scaled ×${SCALE}`);
for (const n of [1, 4, 16]) await run(n);
