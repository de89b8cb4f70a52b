export { LeasesRepository, type ClusterNode, type LineAcquisition, type LineLease, type NodeRegistration } from './leases-repository.ts';
export type { ClusterTables } from './cluster-tables.ts';
export { assertChannel, assertPayload, MAX_CHANNEL_BYTES, MAX_PAYLOAD_BYTES, type Notifier, type NotifyHandler, type Unlisten } from './notifier.ts';
export { LocalNotifier } from './local-notifier.ts';
export { createPgNotifier, PgNotifier, pgNotifyQuery, type PgNotifierOptions } from './pg-notifier.ts';
export { ClusterMembership, FORGET_DEAD_NODE_MS, type ClusterNodeOptions, type ClusterNodeView, type ClusterView } from './membership.ts';
export { ClusterWake, WAKE_CHANNEL, type WakeTargets } from './wake.ts';
export { ChangeRelay, CHANGES_BATCH_MS, CHANGES_CHANNEL, type ChangeFeed, type ChangeRelayOptions } from './change-relay.ts';
