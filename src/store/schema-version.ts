import { StoreError } from '../errors/index.ts';
import type { Migration } from './migrations/types.ts';

/**
 * What both dialects' migration runners share: the newest version the code knows, the refusal
 * of a database written by a newer release, and which migrations are still to apply.
 */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/** Throws when the database's schema is newer than the newest migration this code knows. */
export function refuseNewerSchema(current: number, migrations: readonly Migration[]): void {
  const latest = latestVersion(migrations);
  if (current > latest) {
    throw new StoreError(
      `The database is at schema version ${current} but this AgentPhone knows only up to ${latest}; ` +
        'it was written by a newer release. Upgrade AgentPhone or point it at another data dir.',
    );
  }
}

/**
 * Every migration not yet recorded, in version order, not only those above the current version:
 * numbers are assigned up front, so a lower one (004) can land after a higher one (007) was applied.
 */
export function pendingMigrations(migrations: readonly Migration[], applied: Iterable<number>): Migration[] {
  const done = new Set(applied);
  return migrations.filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version);
}
