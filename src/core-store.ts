import { hostname } from 'node:os';
import { join } from 'node:path';
// Module files, not the barrels: the CLI's offline path loads only what it uses.
import { ADMIN_TOKEN_FILE, ensureAdminToken } from './auth/admin-token.ts';
import { secretsKeyBytes, type Config } from './config/index.ts';
import { ensurePrivateDir, looseModes, MEDIA_DIR, mediaDir } from './store/data-dir.ts';
import { DATABASE_FILE, DATABASE_FILES, openDatabase, type Db } from './store/db.ts';
import { migration015 } from './store/migrations/015-sim-inboxes.ts';
import { NumbersRepository } from './store/numbers-repository.ts';
import { SecretBox } from './store/secret-box.ts';
import type { Database } from './store/sql/database.ts';
import type { SqlStore } from './store/sql/sql-store.ts';
import { sqliteSqlStore } from './store/sql/sqlite-sql-store.ts';

/** What opening the store reports (a pino Logger is one; the CLI's offline path passes a silent one without loading pino). */
export interface StoreLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

/** The data dir entries made private (0600/0700): what opening the store and `agentphone doctor` check the modes of. */
export const PRIVATE_ENTRIES: readonly string[] = [...DATABASE_FILES, ADMIN_TOKEN_FILE, MEDIA_DIR];

/**
 * On PostgreSQL, state that belongs to this node alone (the virtual network's subscriber
 * inboxes) stays in a small SQLite file in the data dir.
 */
export const NODE_LOCAL_FILE = 'node-local.db';
const NODE_LOCAL_MIGRATIONS = [migration015];

export interface CoreStore {
  /**
   * The node's SQLite handle, for what is SQLite's alone (WAL checkpoints, the virtual
   * subscribers' inboxes): the whole store on SQLite; on PostgreSQL, NODE_LOCAL_FILE.
   */
  db: Db;
  /** The store every repository and service works through. */
  store: SqlStore<Database>;
  adminToken: string;
  /** Loaded: its get() answers from memory. */
  numbersRepo: NumbersRepository;
  /** Ends the store, then closes the handle. */
  close(): Promise<void>;
}

/**
 * The data dir opened as every use of it starts: private dirs, the database migrated, the admin
 * token (made on first use), webhook secrets sealed. The gateway's core is built on it; the CLI's
 * offline admin commands use it alone, without loading the rest of the gateway.
 */
export async function openCoreStore(config: Readonly<Config>, logger: StoreLog): Promise<CoreStore> {
  const box = new SecretBox(secretsKeyBytes(config.store));
  ensurePrivateDir(config.dataDir);
  ensurePrivateDir(mediaDir(config.dataDir));
  const { db, store } = await openStores(config, logger);
  const close = async () => {
    await store.close();
    db.close();
  };
  try {
    const { token, generated } = ensureAdminToken(config.dataDir, config.adminToken);
    if (generated) logger.info({ file: join(config.dataDir, ADMIN_TOKEN_FILE) }, 'generated admin token');
    // Made 0700/0600 when created; what the operator made looser before is reported, not changed.
    for (const e of looseModes(config.dataDir, PRIVATE_ENTRIES)) {
      logger.warn({ path: e.path, mode: e.mode, wanted: e.wanted }, 'data dir entry is open to other users: chmod it to the wanted mode');
    }
    const numbersRepo = new NumbersRepository(store.db, box);
    const sealed = await numbersRepo.sealSecrets();
    if (sealed > 0) logger.info({ count: sealed }, 'sealed plaintext webhook secrets with the secrets key');
    await numbersRepo.load();
    return { db, store, adminToken: token, numbersRepo, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The store config selects: SQLite in the data dir, or PostgreSQL (store.postgres.url) migrated
 * under its advisory lock, so nodes starting together apply each migration once; a database
 * newer than this release is refused. The PostgreSQL modules load only when selected.
 */
async function openStores(config: Readonly<Config>, logger: StoreLog): Promise<{ db: Db; store: SqlStore<Database> }> {
  const pg = config.store.postgres;
  if (pg.url === null) {
    const db = openDatabase(join(config.dataDir, DATABASE_FILE));
    return { db, store: sqliteSqlStore<Database>(db) };
  }
  const [{ openPostgresStore, postgresStoreOptions, describeTarget }, { migratePostgres }, { PG_MIGRATIONS }] = await Promise.all([
    import('./store/sql/postgres-sql-store.ts'),
    import('./store/sql/migrate-postgres.ts'),
    import('./store/sql/pg-migrations/index.ts'),
  ]);
  const store = await openPostgresStore<Database>({ ...postgresStoreOptions(pg, config.cluster.nodeId ?? hostname()), logger });
  let db: Db | undefined;
  try {
    const applied = await migratePostgres(store, PG_MIGRATIONS);
    logger.info({ where: describeTarget(pg.url), applied }, 'store: PostgreSQL');
    db = openDatabase(join(config.dataDir, NODE_LOCAL_FILE), { migrations: NODE_LOCAL_MIGRATIONS });
  } catch (err) {
    await store.close();
    throw err;
  }
  return { db, store };
}
