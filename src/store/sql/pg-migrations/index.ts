import { pgMigration001 } from './001-cluster.ts';
import type { Migration } from '../../migrations/types.ts';

/** Every PostgreSQL migration, in version order. Add new ones at the end, never edit a landed one. */
export const PG_MIGRATIONS: readonly Migration[] = [pgMigration001];
