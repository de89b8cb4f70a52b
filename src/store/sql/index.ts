export type { SqlDialect, SqlStore } from './sql-store.ts';
export { sqliteSqlStore } from './sqlite-sql-store.ts';
export { openPostgresStore, type PostgresSslMode, type PostgresSslOptions, type PostgresStoreOptions } from './postgres-sql-store.ts';
export { migratePostgres, MIGRATION_LOCK_KEY } from './migrate-postgres.ts';
export { PG_MIGRATIONS } from './pg-migrations/index.ts';
export { dbNowMs } from './db-clock.ts';
