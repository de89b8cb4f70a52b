export { auditCsv, type AuditCsvRow } from './audit-csv.ts';
export { keywordCandidate, matchKeyword, type KeywordKind, type KeywordMatch, type KeywordSets } from './keywords.ts';
export { OptOutService, type AdminChange, type OptOutServiceDeps } from './opt-out-service.ts';
export { resolveOptOutSettings, type OptOutSettings } from './settings.ts';
