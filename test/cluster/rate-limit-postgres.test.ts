/**
 * The per-key rate limit on one PostgreSQL: two nodes (two cores and their apps, each with its own
 * pool and data dir, listening on loopback) share each key's bucket, so a key gets `burst`
 * requests through the two together, not `burst` through each.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import type { Core } from '../../src/core.ts';
import { testApp } from '../helpers/gateway.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const need = postgresUnavailable();
const BURST = 4;

describeWithTool('rate limits across nodes on one PostgreSQL', need === undefined, need ?? '', () => {
  const tempDir = useTempDir('agentphone-pg-rate-');
  let server: TestPostgres;
  const nodes: { core: Core; app: App; url: string }[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.createDatabase();
    for (let i = 0; i < 2; i++) {
      // One token per 1000 s: nothing refills while the test runs, so exactly BURST get through.
      const { core, app } = await testApp(tempDir(), { store: { postgres: { url } }, rateLimit: { requestsPerSecond: 0.001, burst: BURST } });
      nodes.push({ core, app, url: await app.listen({ host: '127.0.0.1', port: 0 }) });
    }
  }, 120_000);

  afterAll(async () => {
    for (const n of nodes) {
      await n.app.close();
      await n.core.close();
    }
    await server?.stop();
  });

  const get = (node: number, key: string) => fetch(`${nodes[node]!.url}/api/numbers`, { headers: { authorization: `Bearer ${key}` } });

  it('lets burst requests of one key through the two nodes together, and answers the rest 429 with Retry-After', async () => {
    const { key } = await nodes[0]!.core.apiKeys.create({ name: 'shared' });
    // Both nodes at once, alternating: per-node buckets would let 2 × BURST through.
    const answers = await Promise.all(Array.from({ length: 4 * BURST }, (_, i) => get(i % 2, key)));
    const ok = answers.filter((r) => r.status === 200);
    const limited = answers.filter((r) => r.status === 429);
    expect(ok).toHaveLength(BURST);
    expect(limited).toHaveLength(3 * BURST);
    for (const res of limited) {
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await res.json()) as { error: string }).error).toBe('Too Many Requests');
    }
    // Sequentially too: the key's bucket is empty on both nodes.
    expect((await get(0, key)).status).toBe(429);
    expect((await get(1, key)).status).toBe(429);
  });

  it("keeps another key's bucket apart", async () => {
    const { key } = await nodes[1]!.core.apiKeys.create({ name: 'other' });
    const statuses: number[] = [];
    for (let i = 0; i < BURST + 1; i++) statuses.push((await get(i % 2, key)).status);
    expect(statuses).toEqual([...Array<number>(BURST).fill(200), 429]);
  });
});
