import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { describeWithTool } from '../helpers/system-tool.ts';

// The throwaway server every PostgreSQL test uses: it starts, hands out empty databases, stops.
describeWithTool('throwaway PostgreSQL server', postgresUnavailable() === undefined, postgresUnavailable() ?? '', () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(() => server?.stop());

  it('serves a fresh database per call, over TCP on loopback', async () => {
    const a = await server.createDatabase();
    const b = await server.createDatabase();
    expect(a).not.toBe(b);
    const client = new pg.Client({ connectionString: a });
    await client.connect();
    try {
      await client.query('CREATE TABLE t (x int)');
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM t');
      expect(rows[0]?.n).toBe('0');
      const { rows: v } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
      expect(Number(v[0]?.server_version_num)).toBeGreaterThanOrEqual(120000);
    } finally {
      await client.end();
    }
  });
});
