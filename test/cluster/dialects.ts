/**
 * The cluster's contract suites run on both dialects: each gives two nodes' views of one fresh
 * database, each through its own connection (a SQLite handle, or a pg pool, as two processes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterTables } from '../../src/cluster/index.ts';
import { migratePostgres, openDatabase, openPostgresStore, PG_MIGRATIONS, sqliteSqlStore, type Db, type SqlStore } from '../../src/store/index.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';

/** Two nodes' views of one database, each through its own connection (SQLite handle or pg pool). */
export interface Pair {
  readonly stores: readonly [SqlStore<ClusterTables>, SqlStore<ClusterTables>];
  /** SQLite: the handles under the stores (closing one is a node losing its database). */
  readonly handles?: readonly Db[];
  close(): Promise<void>;
}

export interface DialectUnderTest {
  readonly name: string;
  /** Why it cannot run here, or undefined. */
  readonly need: string | undefined;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  open(): Promise<Pair>;
}

let pgServer: TestPostgres | undefined;
let sqliteDir = '';
let sqliteFiles = 0;

export const DIALECTS: readonly DialectUnderTest[] = [
  {
    name: 'SQLite',
    need: undefined,
    async setup() {
      sqliteDir = mkdtempSync(join(tmpdir(), 'agentphone-leases-'));
    },
    async teardown() {
      rmSync(sqliteDir, { recursive: true, force: true });
    },
    async open() {
      // A real database file, opened twice as two processes would (the migrations make the tables).
      const file = join(sqliteDir, `leases-${++sqliteFiles}.db`);
      const handles: Db[] = [openDatabase(file), openDatabase(file)];
      const stores = [sqliteSqlStore<ClusterTables>(handles[0]!), sqliteSqlStore<ClusterTables>(handles[1]!)] as const;
      return {
        stores,
        handles,
        async close() {
          for (const s of stores) await s.close();
          for (const h of handles) h.close();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    need: postgresUnavailable(),
    async setup() {
      pgServer = await startPostgres();
    },
    async teardown() {
      await pgServer?.stop();
    },
    async open() {
      const url = await pgServer!.createDatabase();
      const stores = [await openPostgresStore<ClusterTables>({ url }), await openPostgresStore<ClusterTables>({ url })] as const;
      await migratePostgres(stores[0], PG_MIGRATIONS);
      return {
        stores,
        async close() {
          // A test may have closed one already (a node losing its database).
          for (const s of stores) await s.close().catch(() => undefined);
        },
      };
    },
  },
];

