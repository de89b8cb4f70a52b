export { LeasesRepository, type ClusterNode, type LineAcquisition, type LineLease, type NodeRegistration } from './leases-repository.ts';
export type { ClusterNodesTable, ClusterTables, LineLeasesTable } from './cluster-tables.ts';
