import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors/index.ts';
import { migrate, migratePostgres, openDatabase, openPostgresStore, PG_MIGRATIONS, type Migration, type SqlStore } from '../../../src/store/index.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';

/** Two more migrations after the real ones; applying either twice fails (CREATE TABLE without IF NOT EXISTS). */
const REAL = PG_MIGRATIONS.map((m) => m.version);
const A = Math.max(...REAL) + 1;
const B = A + 1;
const EXTRA: readonly Migration[] = [
  { version: A, name: 'probe-a', up: 'CREATE TABLE probe_a (id int primary key); INSERT INTO probe_a VALUES (1);' },
  { version: B, name: 'probe-b', up: 'CREATE TABLE probe_b (id int primary key)' },
];
const ALL = [...PG_MIGRATIONS, ...EXTRA];

const need = postgresUnavailable();

describeWithTool('PostgreSQL store and migrations', need === undefined, need ?? '', () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(() => server?.stop());

  async function withStores<T>(count: number, body: (stores: SqlStore<unknown>[], url: string) => Promise<T>): Promise<T> {
    const url = await server.createDatabase();
    const stores: SqlStore<unknown>[] = [];
    try {
      for (let i = 0; i < count; i++) stores.push(await openPostgresStore({ url, applicationName: `node-${i}` }));
      return await body(stores, url);
    } finally {
      for (const s of stores) await s.close();
    }
  }

  async function versions(store: SqlStore<unknown>): Promise<number[]> {
    const { rows } = await sql<{ version: number }>`select version from schema_version order by version`.execute(store.db);
    return rows.map((r) => r.version);
  }

  it('applies each migration once when three nodes migrate the same empty database at once', async () => {
    await withStores(3, async (stores) => {
      const applied = await Promise.all(stores.map((s) => migratePostgres(s, ALL)));
      expect(applied.flat().sort((x, y) => x - y)).toEqual([...REAL, A, B]);
      // The lock is held for the whole run: one node applied them all, the others found them recorded.
      expect(applied.filter((a) => a.length > 0)).toHaveLength(1);
      expect(await versions(stores[0]!)).toEqual([...REAL, A, B]);
      const { rows } = await sql<{ n: number }>`select count(*) as n from pg_locks where locktype = 'advisory'`.execute(stores[1]!.db);
      expect(rows[0]!.n).toBe(0);
      expect(await migratePostgres(stores[2]!, ALL)).toEqual([]);
    });
  });

  it('refuses a database written by a newer release, with the same words as the SQLite store', async () => {
    await withStores(1, async ([store]) => {
      await migratePostgres(store!, PG_MIGRATIONS);
      await sql`insert into schema_version (version, name, applied_at) values (999, 'future', 'x')`.execute(store!.db);
      const err = await migratePostgres(store!, ALL).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/schema version 999 .* newer release/);
      expect(await versions(store!)).toEqual([...REAL, 999]); // untouched: the probes not applied

      const dir = mkdtempSync(join(tmpdir(), 'agentphone-newer-'));
      const sqlite = openDatabase(join(dir, 'a.db'), { migrations: [] });
      try {
        sqlite.prepare("INSERT INTO schema_version VALUES (999, 'future', 'x')").run();
        expect(() => migrate(sqlite, ALL)).toThrow((err as Error).message);
      } finally {
        sqlite.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('rolls back a failing migration alone, names it, and releases the lock', async () => {
    await withStores(2, async ([first, second]) => {
      const broken: Migration = { version: A, name: 'broken', up: 'CREATE TABLE half (id int); SELECT no_such_function();' };
      const err = await migratePostgres(first!, [...PG_MIGRATIONS, broken]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(new RegExp(`PostgreSQL migration ${A} \\(broken\\) failed: .*no_such_function`));
      expect(await versions(first!)).toEqual(REAL);
      const { rows } = await sql<{ t: string | null }>`select to_regclass('half')::text as t`.execute(first!.db);
      expect(rows[0]!.t).toBeNull();
      // Another node is not blocked by a lock left behind.
      expect(await migratePostgres(second!, ALL)).toEqual([A, B]);
    });
  });

  it('returns bigint and numeric as numbers on its own pool, leaving pg global parsers alone', async () => {
    await withStores(1, async ([store]) => {
      const { rows } = await sql<{ n: number; big: number; dec: number }>`select count(*) as n, 9007199254740991::bigint as big, 2.5::numeric as dec`.execute(store!.db);
      expect(rows[0]).toEqual({ n: 1, big: 9007199254740991, dec: 2.5 });
      await expect(sql`select 9007199254740993::bigint as big`.execute(store!.db)).rejects.toThrow(/beyond JavaScript's safe integers/);
      expect(pg.types.getTypeParser(pg.types.builtins.INT8)('5')).toBe('5');
    });
  });

  it('fails with a StoreError naming the TLS mode when the server has no TLS, never echoing the password', async () => {
    const url = (await server.createDatabase()).replace('agentphone@', 'agentphone:s3cret-pw@');
    const err = await openPostgresStore({ url, ssl: { mode: 'require' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/Cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/\w+ \(store\.postgres\.ssl\.mode require\): .*SSL/);
    expect((err as Error).message).not.toContain('s3cret-pw');
    // The same URL without TLS connects (trust auth ignores the password).
    const store = await openPostgresStore({ url, ssl: { mode: 'disable' } });
    await store.close();
  });

  it('names the setting of a TLS file that cannot be read', async () => {
    const url = await server.createDatabase();
    await expect(openPostgresStore({ url, ssl: { mode: 'verify-full', caFile: '/nonexistent/ca.pem' } })).rejects.toThrow(
      /store\.postgres\.ssl\.caFile: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/,
    );
    await expect(openPostgresStore({ url, ssl: { mode: 'require', keyFile: '/nonexistent/key.pem' } })).rejects.toThrow(StoreError);
  });

  it('refuses a URL that is not postgres:// without echoing it', async () => {
    const err = await openPostgresStore({ url: 'mysql://root:hunter2@db/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain('store.postgres.url');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('refuses TLS parameters in the URL, which pg would let override store.postgres.ssl', async () => {
    const url = await server.createDatabase();
    await expect(openPostgresStore({ url: `${url}?sslmode=disable`, ssl: { mode: 'verify-full' } })).rejects.toThrow(
      /store\.postgres\.url must not set sslmode; set TLS with store\.postgres\.ssl/,
    );
  });
});
