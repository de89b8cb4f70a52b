export type { SqlDialect, SqlStore } from './sql-store.ts';
export { sqliteSqlStore } from './sqlite-sql-store.ts';
export { describeTarget, openPostgresStore, type PostgresSslMode, type PostgresSslOptions, type PostgresStoreOptions } from './postgres-sql-store.ts';
export { migratePostgres, MIGRATION_LOCK_KEY } from './migrate-postgres.ts';
export { PG_MIGRATIONS } from './pg-migrations/index.ts';
export { dbNowMs } from './db-clock.ts';
export { copySqliteToPostgres, type StoreCopyResult, type TableCopy } from './copy-to-postgres.ts';
export { openSqliteAtVersion } from './sqlite-schema-walk.ts';
export type { Database } from './database.ts';
