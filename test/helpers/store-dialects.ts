/**
 * The repository contract suites run on both dialects: `describeOnEachDialect` runs a body once
 * on SQLite (a real database file) and once on PostgreSQL (a throwaway server per test file),
 * each `open()` giving a fresh store with every migration applied.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { migratePostgres, openDatabase, openPostgresStore, PG_MIGRATIONS, sqliteSqlStore, type Db, type SqlStore } from '../../src/store/index.ts';
import type { Database } from '../../src/store/sql/database.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from './postgres.ts';
import { describeWithTool } from './system-tool.ts';

export interface TestStore {
  readonly store: SqlStore<Database>;
  /** SQLite: the better-sqlite3 handle under the store. */
  readonly handle?: Db;
  /** PostgreSQL: the database's URL (a second store on it is another node). */
  readonly url?: string;
  close(): Promise<void>;
}

export type OpenStore = () => Promise<TestStore>;

/**
 * A second store on `t`'s database, as another node sees it: its own pool on PostgreSQL; on
 * SQLite the same store (one handle, the way one node shares it).
 */
export async function otherNode(t: TestStore): Promise<{ store: SqlStore<Database>; close(): Promise<void> }> {
  if (!t.url) return { store: t.store, close: async () => {} };
  const store = await openPostgresStore<Database>({ url: t.url });
  return { store, close: () => store.close() };
}

/** `body` once per dialect, with a function that opens a fresh, migrated store of that dialect. */
export function describeOnEachDialect(title: string, body: (open: OpenStore) => void): void {
  describe(`${title} on SQLite`, () => {
    let dir = '';
    let files = 0;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'agentphone-store-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    body(async () => {
      const handle = openDatabase(join(dir, `store-${++files}.db`));
      const store = sqliteSqlStore<Database>(handle);
      return {
        store,
        handle,
        async close() {
          await store.close();
          handle.close();
        },
      };
    });
  });
  const need = postgresUnavailable();
  describeWithTool(`${title} on PostgreSQL`, need === undefined, need ?? '', () => {
    let server: TestPostgres | undefined;
    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(() => server?.stop());
    body(async () => {
      const url = await server!.createDatabase();
      const store = await openPostgresStore<Database>({ url });
      await migratePostgres(store, PG_MIGRATIONS);
      return { store, url, close: () => store.close() };
    });
  });
}
