import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from '../../errors/index.ts';
import { currentSchemaVersion, type Db } from '../db.ts';
import type { Migration } from '../migrations/types.ts';
import { latestVersion, refuseNewerSchema } from '../schema-version.ts';

/** A SQLite table of the store: its columns in declaration order and what its rowid key counted to. */
export interface SqliteTable {
  readonly name: string;
  readonly columns: readonly string[];
  /** sqlite_sequence's value (AUTOINCREMENT tables): an id never to hand out again, even if its row is gone. */
  readonly sequence: number;
}

/**
 * The store's tables, each after every table it references (PRAGMA foreign_key_list), so rows
 * can be inserted in this order with foreign keys checked. Not schema_version (each dialect's
 * migration runner keeps its own) nor SQLite's internal tables.
 */
export function sqliteTablesInForeignKeyOrder(db: Db): SqliteTable[] {
  const names = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_version' ORDER BY name")
    .all()
    .map((r) => r.name);
  const sequences = new Map<string, number>();
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()) {
    for (const r of db.prepare<[], { name: string; seq: number }>('SELECT name, seq FROM sqlite_sequence').all()) sequences.set(r.name, r.seq);
  }
  const parents = new Map(names.map((n) => [n, new Set(pragmaRows<{ table: string }>(db, `foreign_key_list("${n}")`).map((fk) => fk.table).filter((t) => t !== n))]));
  const ordered: string[] = [];
  const placed = new Set<string>();
  // Kahn's algorithm over the names in alphabetical order, so the order is the same on every run.
  while (ordered.length < names.length) {
    const next = names.find((n) => !placed.has(n) && [...(parents.get(n) ?? [])].every((p) => placed.has(p) || !parents.has(p)));
    if (next === undefined) {
      const left = names.filter((n) => !placed.has(n));
      throw new StoreError(`The SQLite store's foreign keys form a cycle among ${left.join(', ')}; they cannot be copied table by table`);
    }
    ordered.push(next);
    placed.add(next);
  }
  return ordered.map((name) => ({
    name,
    columns: pragmaRows<{ name: string }>(db, `table_info("${name}")`).map((c) => c.name),
    sequence: sequences.get(name) ?? 0,
  }));
}

function pragmaRows<Row>(db: Db, pragma: string): Row[] {
  return db.pragma(pragma) as Row[];
}

/**
 * Opens an existing SQLite store as it is (no migrations) for reading, refusing a file that is
 * missing, not an AgentPhone store, or not at the newest of `migrations` (what this release writes).
 */
export function openSqliteAtVersion(file: string, migrations: readonly Migration[]): Db {
  const latest = latestVersion(migrations);
  if (!existsSync(file)) throw new StoreError(`There is no AgentPhone store at ${file}`);
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()) {
      throw new StoreError(`${file} is not an AgentPhone store (no schema_version table)`);
    }
    const version = currentSchemaVersion(db);
    refuseNewerSchema(version, migrations);
    if (version < latest) {
      throw new StoreError(`${file} is at schema version ${version}, this release's is ${latest}: start the gateway once with this release (it migrates the store), stop it, then run migrate-store again`);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
