export { openDatabase, migrate, currentSchemaVersion, DATABASE_FILE, DATABASE_FILES, type Db, type OpenDatabaseOptions } from './db.ts';
export { ensurePrivateDir, looseModes, MEDIA_DIR, mediaDir, type LooseEntry } from './data-dir.ts';
export { SecretBox } from './secret-box.ts';
export { MIGRATIONS, type Migration } from './migrations/index.ts';
export {
  copySqliteToPostgres,
  dbNowMs,
  describeTarget,
  migratePostgres,
  MIGRATION_LOCK_KEY,
  openPostgresStore,
  openSqliteAtVersion,
  PG_MIGRATIONS,
  sqliteSqlStore,
  type PostgresSslMode,
  type PostgresSslOptions,
  type PostgresStoreOptions,
  type Database,
  type SqlDialect,
  type SqlStore,
  type StoreCopyResult,
  type TableCopy,
} from './sql/index.ts';
export { NumbersCache, NumbersRepository, type NumberRecord, type NumberSettingsPatch } from './numbers-repository.ts';
export { ApiKeysRepository, type ApiKeyRecord } from './api-keys-repository.ts';
export { OutboxRepository, type OutboxEvent, type OutboxStatus } from './outbox-repository.ts';
export { UsageRepository } from './usage-repository.ts';
export { RateBucketsRepository, type BucketLimit, type BucketTake } from './rate-buckets-repository.ts';
export {
  MessagesRepository,
  type MessageFilter,
  type MessageRecord,
  type MessageStatus,
  type MessageStatusView,
  type AwaitingReportPart,
  type PartRecord,
  type PartStatus,
  type UndecodablePdu,
} from './messages-repository.ts';
export { IdempotencyRepository, type IdempotencyRecord } from './idempotency-repository.ts';
export { DashboardRepository, type ConversationRow, type DailyTotals, type DashboardMessageFilter } from './dashboard-repository.ts';
export { ConversationsRepository, conversationStatements, type ConversationRecord, type KeysetPosition, type ThreadCallRecord } from './conversations-repository.ts';
export { CallsRepository, type CallDirection, type CallRecord, type CallStatus, type CallTurnRecord, type VoiceSettingsRecord } from './calls-repository.ts';
export { OptOutsRepository, type OptOutAuditRecord, type OptOutRecord, type OptOutSource, type OptOutState } from './opt-outs-repository.ts';
export { WalCheckpointer } from './checkpointer.ts';
export { GroupCommit } from './group-commit.ts';
export { mediaFilePath, purgeStored, retentionCutoffs, type PurgeCounts, type PurgeCutoffs } from './retention.ts';
export { PurgeJob, type PurgeJobDeps } from './purge-job.ts';
export { backupDataDir, restoreDataDir, type BackupResult, type RestoreResult } from './backup.ts';
