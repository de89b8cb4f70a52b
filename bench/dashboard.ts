/**
 * bench:dashboard — the admin read models the dashboard calls, on a store with many messages
 * (BENCH_MESSAGES, default 50,000 over 2 numbers and 2,000 contacts), against the existing
 * per-number message list (GET /api/numbers/:id/messages?limit=50) measured in the same run.
 * In-process through fastify's inject, so it measures routing, auth, SQL and serialization.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../src/config/index.ts';
import { buildCoreApp, createCore } from '../src/core.ts';
import { silentLogger } from '../src/logging/index.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const ADMIN = 'bench-admin-token-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-dashboard-'));
const core = await createCore(validateConfig({ dataDir: dir, adminToken: ADMIN, log: { level: 'silent' }, rateLimit: { requestsPerSecond: 1e9, burst: 1e9 } }), silentLogger());
const app = await buildCoreApp(core);
try {
  const numbers = [await core.numbers.lineFound('l1', '+15550000001'), await core.numbers.lineFound('l2', '+15550000002')];
  const start = Date.UTC(2026, 10, 1);
  await core.store.tx(async (tx) => {
    const messages = core.messages.on(tx);
    for (let i = 0; i < MESSAGES; i++) {
      const n = numbers[i % 2]!;
      await messages.insert({
        id: `msg_${String(i).padStart(8, '0')}`,
        numberId: n.id,
        direction: i % 3 === 0 ? 'outbound' : 'inbound',
        channel: 'sms',
        contact: `+1555${String(1_000_000 + (i % 2000)).slice(1)}`,
        body: `message ${i} about order ${i % 977}`,
        media: [],
        status: i % 3 === 0 ? 'delivered' : 'received',
        encoding: 'gsm7',
        segments: 1 + (i % 3),
        createdAt: new Date(start + i * 30_000).toISOString(),
      });
    }
  });
  const key = (await core.apiKeys.create({ name: 'bench' })).key;
  const month = '2026-11';

  async function measure(url: string, auth: string): Promise<number> {
    const headers = { authorization: `Bearer ${auth}` };
    for (let i = 0; i < 10; i++) await app.inject({ url, headers });
    const t0 = performance.now();
    for (let i = 0; i < ROUNDS; i++) {
      const res = await app.inject({ url, headers });
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    }
    return (performance.now() - t0) / ROUNDS;
  }

  const baseline = await measure(`/api/numbers/${numbers[0]!.id}/messages?limit=50`, key);
  const cases: Array<[string, string]> = [
    ['messages, all numbers', '/admin/messages?limit=50'],
    ['messages, one contact', `/admin/messages?contact=%2B15550001234&limit=50`],
    ['messages, text search', '/admin/messages?q=order%20976&limit=50'],
    ['message detail', '/admin/messages/msg_00000300'],
    ['conversations (100)', '/admin/conversations?limit=100'],
    ['usage per day', `/admin/usage/daily?month=${month}`],
    ['usage CSV', `/admin/usage/export.csv?month=${month}`],
    ['overview', '/admin/dashboard/overview'],
  ];
  console.log(`bench:dashboard — ${MESSAGES} messages, ${ROUNDS} requests each (machine shared with other work: compare ratios)`);
  console.log(`${'baseline: /api/numbers/:id/messages'.padEnd(40)} ${baseline.toFixed(2).padStart(8)} ms/req  1.00×`);
  for (const [name, url] of cases) {
    const ms = await measure(url, ADMIN);
    console.log(`${name.padEnd(40)} ${ms.toFixed(2).padStart(8)} ms/req  ${(ms / baseline).toFixed(2)}×`);
  }
} finally {
  await app.close();
  await core.close();
  rmSync(dir, { recursive: true, force: true });
}
