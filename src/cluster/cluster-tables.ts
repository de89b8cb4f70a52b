import type { Database } from '../store/sql/database.ts';

/**
 * The cluster tables as Kysely sees them (migrations: SQLite 019-cluster, PostgreSQL 001-cluster).
 * Times are epoch ms of the database's clock; a released lease has lease_until 0, and its epoch
 * (the fencing token) rises with every new tenure and is kept by renewals.
 */
export type ClusterTables = Pick<Database, 'cluster_nodes' | 'line_leases'>;
