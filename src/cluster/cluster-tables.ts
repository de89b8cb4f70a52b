/** The cluster tables as Kysely sees them (migrations: SQLite 019-cluster, PostgreSQL 001-cluster). */
export interface ClusterNodesTable {
  id: string;
  host: string;
  pid: number;
  version: string;
  /** Epoch ms of the database's clock. */
  started_at: number;
  heartbeat_at: number;
  /** JSON object as text. */
  info: string;
}

export interface LineLeasesTable {
  line_id: string;
  node_id: string;
  /** Epoch ms of the database's clock; 0 once released. */
  lease_until: number;
  acquired_at: number;
  /** Fencing token: rises with every new tenure, kept by renewals. */
  epoch: number;
}

export interface ClusterTables {
  cluster_nodes: ClusterNodesTable;
  line_leases: LineLeasesTable;
}
