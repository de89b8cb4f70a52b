import { pgMigration001 } from './001-cluster.ts';
import { pgMigration002 } from './002-baseline.ts';
import { pgMigration003 } from './003-rate-buckets.ts';
import { pgMigration004 } from './004-media-blobs.ts';
import { pgMigration005 } from './005-call-nodes.ts';
import type { Migration } from '../../migrations/types.ts';

/** Every PostgreSQL migration, in version order. Add new ones at the end, never edit a landed one. */
export const PG_MIGRATIONS: readonly Migration[] = [pgMigration001, pgMigration002, pgMigration003, pgMigration004, pgMigration005];
