import { pgMigration001 } from './001-cluster.ts';
import { pgMigration002 } from './002-baseline.ts';
import type { Migration } from '../../migrations/types.ts';

/** Every PostgreSQL migration, in version order. Add new ones at the end, never edit a landed one. */
export const PG_MIGRATIONS: readonly Migration[] = [pgMigration001, pgMigration002];
