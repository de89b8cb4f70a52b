import { sql, type Kysely, type RawBuilder } from 'kysely';
import { StoreError } from '../../errors/index.ts';
import type { Db } from '../db.ts';
import { copyMediaFilesToBlobs, type MediaFilesCopy } from './copy-media-files.ts';
import type { SqlStore } from './sql-store.ts';
import { sqliteTablesInForeignKeyOrder, type SqliteTable } from './sqlite-schema-walk.ts';

export interface TableCopy {
  readonly table: string;
  readonly rows: number;
}

export interface StoreCopyResult {
  /** Every copied table in the order it was copied (foreign-key order; trigger-kept tables last). */
  readonly tables: readonly TableCopy[];
  readonly totalRows: number;
  /** The media files copied into media_blobs (only when asked to, see copySqliteToPostgres). */
  readonly mediaFiles?: MediaFilesCopy;
}

/** PostgreSQL takes at most 65535 parameters in one statement. */
const MAX_PARAMETERS = 65_535;

/**
 * Tables the target keeps with triggers on other tables' inserts (PostgreSQL migration 002's
 * conversations triggers on messages and calls). Copying messages and calls fires those triggers,
 * which would build these rows a second time and count every inbound message as unread. Disabling
 * triggers (session_replication_role = replica, ALTER TABLE … DISABLE TRIGGER) needs a superuser
 * or the tables' owner, which a managed database's migrating role may not be; and skipping the
 * table would lose what the triggers cannot rebuild (read_at, the unread counts after it). So,
 * inside the copy's one transaction, once every other table is in: the trigger-built rows are
 * deleted and the SQLite rows copied as data, leaving exactly the source's rows.
 */
const TRIGGER_KEPT = new Set(['conversations']);

type Value = string | number | Buffer | null;

/**
 * Copies every table of a SQLite store into a PostgreSQL database migrated to the same schema,
 * in one PostgreSQL transaction: on any failure nothing stays in the target. Refuses a target
 * whose tables hold rows, a SQLite table or column the target lacks. After the rows: every
 * identity column's sequence is set past the highest id (and past SQLite's AUTOINCREMENT
 * counter), and the target's row count of every table is checked against the source's.
 * The source is read in one read transaction (the caller keeps gateways off it).
 * `mediaFilesFrom`: the media directory whose files the rows refer to, copied into media_blobs
 * in the same transaction (for a target that keeps media in the database).
 */
export async function copySqliteToPostgres<DB>(source: Db, target: SqlStore<DB>, batchRows: number, options: { mediaFilesFrom?: string } = {}): Promise<StoreCopyResult> {
  if (target.dialect !== 'postgres') throw new StoreError(`copySqliteToPostgres needs a PostgreSQL target, not ${target.dialect}`);
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new StoreError(`The batch size must be a positive integer, not ${batchRows}`);
  const tables = sqliteTablesInForeignKeyOrder(source);
  const targetColumns = await postgresColumns(target.db);
  for (const t of tables) {
    const have = targetColumns.get(t.name);
    if (!have) throw new StoreError(`The PostgreSQL database has no table ${t.name} (the SQLite store has); is it migrated by this release?`);
    const missing = t.columns.filter((c) => !have.has(c));
    if (missing.length > 0) throw new StoreError(`The PostgreSQL table ${t.name} has no column ${missing.join(', ')} (the SQLite store has)`);
  }
  await refuseNonEmpty(target.db, [...tables.map((t) => t.name), ...[...targetColumns.keys()].sort()]);

  const order = [...tables.filter((t) => !TRIGGER_KEPT.has(t.name)), ...tables.filter((t) => TRIGGER_KEPT.has(t.name))];
  source.exec('BEGIN');
  try {
    const counts = new Map(order.map((t) => [t.name, (source.prepare(`SELECT COUNT(*) AS n FROM "${t.name}"`).get() as { n: number }).n]));
    const mediaFiles = await target.db.transaction().execute(async (trx) => {
      for (const t of order) {
        if (TRIGGER_KEPT.has(t.name)) await sql`delete from ${sql.table(t.name)}`.execute(trx);
        await copyTable(source, trx, t, batchRows).catch((err: unknown) => {
          throw new StoreError(`Copying table ${t.name} failed: ${(err as Error).message}`, { cause: err });
        });
      }
      await advanceIdentities(trx, tables);
      for (const t of order) {
        const { rows } = await sql<{ n: number }>`select count(*)::integer as n from ${sql.table(t.name)}`.execute(trx);
        const copied = rows[0]?.n ?? 0;
        if (copied !== counts.get(t.name)) throw new StoreError(`Table ${t.name}: ${counts.get(t.name)} rows in SQLite but ${copied} in PostgreSQL after the copy`);
      }
      return options.mediaFilesFrom === undefined ? undefined : copyMediaFilesToBlobs(source, trx, options.mediaFilesFrom);
    });
    const result = order.map((t) => ({ table: t.name, rows: counts.get(t.name) ?? 0 }));
    return { tables: result, totalRows: result.reduce((sum, t) => sum + t.rows, 0), ...(mediaFiles && { mediaFiles }) };
  } finally {
    source.exec('COMMIT');
  }
}

/** Every base table of the target's schema (less schema_version) with its column names. */
async function postgresColumns<DB>(db: Kysely<DB>): Promise<Map<string, Set<string>>> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' and c.table_name <> 'schema_version'`.execute(db);
  const tables = new Map<string, Set<string>>();
  for (const r of rows) {
    const columns = tables.get(r.table_name) ?? new Set<string>();
    columns.add(r.column_name);
    tables.set(r.table_name, columns);
  }
  return tables;
}

/** Throws naming the first table (in `names` order) that holds a row. */
async function refuseNonEmpty<DB>(db: Kysely<DB>, names: readonly string[]): Promise<void> {
  for (const name of new Set(names)) {
    const { rows } = await sql<{ found: boolean }>`select exists (select 1 from ${sql.table(name)}) as found`.execute(db);
    if (rows[0]?.found) {
      throw new StoreError(`The PostgreSQL database is not empty: table ${name} holds rows. migrate-store copies only into an empty database; point --to at a new one`);
    }
  }
}

/** Streams one table's rows into the target in multi-row parameterised INSERTs. */
async function copyTable<DB>(source: Db, trx: Kysely<DB>, table: SqliteTable, batchRows: number): Promise<void> {
  const perInsert = Math.max(1, Math.min(batchRows, Math.floor(MAX_PARAMETERS / table.columns.length)));
  const columns = sql.join(table.columns.map((c) => sql.ref(c)));
  const list = table.columns.map((c) => `"${c}"`).join(', ');
  // Integers as BigInt: a value past 2^53 reaches PostgreSQL as its exact digits.
  const rows = source.prepare(`SELECT ${list} FROM "${table.name}"`).raw(true).safeIntegers(true);
  const insert = (batch: Value[][]): RawBuilder<unknown> =>
    sql`insert into ${sql.table(table.name)} (${columns}) values ${sql.join(batch.map((r) => sql`(${sql.join(r)})`))}`;
  let batch: Value[][] = [];
  for (const row of rows.iterate() as IterableIterator<unknown[]>) {
    batch.push(row.map(toParameter));
    if (batch.length === perInsert) {
      await insert(batch).execute(trx);
      batch = [];
    }
  }
  if (batch.length > 0) await insert(batch).execute(trx);
}

function toParameter(value: unknown): Value {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value === null || typeof value === 'string' || typeof value === 'number' || Buffer.isBuffer(value)) return value;
  throw new StoreError(`A SQLite value of type ${typeof value} cannot be copied`);
}

/**
 * Sets each identity column's sequence so the next id is past every copied one and past
 * SQLite's AUTOINCREMENT counter (ids of deleted rows are not handed out again).
 */
async function advanceIdentities<DB>(trx: Kysely<DB>, tables: readonly SqliteTable[]): Promise<void> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and is_identity = 'YES'`.execute(trx);
  const floors = new Map(tables.map((t) => [t.name, t.sequence]));
  for (const { table_name: table, column_name: column } of rows) {
    const { rows: max } = await sql<{ n: number | null }>`select max(${sql.ref(column)})::bigint as n from ${sql.table(table)}`.execute(trx);
    const next = Math.max(max[0]?.n ?? 0, floors.get(table) ?? 0) + 1;
    await sql`select setval(pg_get_serial_sequence(${`"${table}"`}, ${column}), ${next}, false)`.execute(trx);
  }
}
