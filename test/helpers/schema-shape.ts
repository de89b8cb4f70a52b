/**
 * A store's schema reduced to what both dialects can state alike, so a SQLite file and a
 * PostgreSQL database can be compared table by table (test/store/sql/pg-schema-parity.test.ts).
 * Index and constraint names SQLite makes up (sqlite_autoindex_…) are left out; the names of
 * indexes a migration creates are kept.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db, SqlStore } from '../../src/store/index.ts';

export type TypeFamily = 'text' | 'integer' | 'real' | 'blob';

export interface ColumnShape {
  readonly type: TypeFamily;
  readonly notNull: boolean;
  /** The DEFAULT as written, without PostgreSQL's cast (`'[]'::text` → `'[]'`); null when none. */
  readonly default: string | null;
}

export interface TableShape {
  readonly columns: Record<string, ColumnShape>;
  readonly primaryKey: readonly string[];
  /** `[name: ]unique? (col, col DESC)[ where …]`, sorted; the name only for indexes a migration names. */
  readonly indexes: readonly string[];
  /** `(cols) -> table(cols) on delete ACTION`, sorted. */
  readonly foreignKeys: readonly string[];
  /** Per CHECK: the columns it reads and the literals it names (`status: 'active','inactive'`), sorted. */
  readonly checks: readonly string[];
  readonly triggers: readonly string[];
}

export type SchemaShape = Record<string, TableShape>;

function family(declared: string): TypeFamily {
  const t = declared.toLowerCase();
  if (t === 'text') return 'text';
  if (t === 'integer' || t === 'bigint') return 'integer';
  if (t === 'real' || t === 'double precision') return 'real';
  if (t === 'blob' || t === 'bytea') return 'blob';
  throw new Error(`no type family for ${declared}`);
}

/**
 * Columns read, literals named and whether NOT is said, in a CHECK or an index's WHERE: the same for
 * `x IN (1, 2)` and `x = ANY (ARRAY[1, 2])`, for `x IS NOT NULL` and `(x IS NOT NULL)`.
 */
function checkFingerprint(expr: string, columns: readonly string[]): string {
  const strings = expr.match(/'(?:[^']|'')*'/g) ?? [];
  const rest = expr.replace(/'(?:[^']|'')*'/g, ' ').replace(/::[a-z_]+/gi, ' ');
  const numbers = rest.match(/\b\d+\b/g) ?? [];
  const read = columns.filter((c) => new RegExp(`\\b${c}\\b`).test(rest)).sort();
  return `${/\bNOT\b/i.test(rest) ? 'NOT ' : ''}${read.join(',')}: ${[...strings, ...numbers].sort().join(',')}`;
}

/** The parenthesised expression after each CHECK in a CREATE TABLE statement. */
function checkExpressions(createSql: string): string[] {
  const found: string[] = [];
  const re = /\bCHECK\s*\(/gi;
  for (let m = re.exec(createSql); m; m = re.exec(createSql)) {
    let depth = 1;
    let i = re.lastIndex;
    for (; i < createSql.length && depth > 0; i++) depth += createSql[i] === '(' ? 1 : createSql[i] === ')' ? -1 : 0;
    found.push(createSql.slice(re.lastIndex, i - 1));
  }
  return found;
}

interface SqliteColumn {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

/** Every table of a SQLite database except SQLite's own (sqlite_…). */
export function sqliteShape(db: Db): SchemaShape {
  const shape: SchemaShape = {};
  const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").all() as { name: string; sql: string }[];
  for (const { name, sql: createSql } of tables) {
    const cols = db.prepare(`PRAGMA table_info("${name}")`).all() as SqliteColumn[];
    const columns: Record<string, ColumnShape> = {};
    for (const c of cols) columns[c.name] = { type: family(c.type), notNull: c.notnull === 1 || c.pk > 0, default: c.dflt_value };
    const indexes = (db.prepare(`PRAGMA index_list("${name}")`).all() as { name: string; unique: number; origin: string; partial: number }[])
      .filter((ix) => ix.origin !== 'pk')
      .map((ix) => {
        const keys = (db.prepare(`PRAGMA index_xinfo("${ix.name}")`).all() as { name: string; desc: number; key: number }[]).filter((k) => k.key === 1);
        const indexSql = ix.partial ? (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").get(ix.name) as { sql: string }).sql : '';
        const where = ix.partial ? checkFingerprint(/\bWHERE\b([\s\S]*)$/i.exec(indexSql)![1]!, Object.keys(columns)) : undefined;
        return describeIndex(ix.origin === 'c' ? ix.name : undefined, ix.unique === 1, keys.map((k) => k.name + (k.desc ? ' DESC' : '')), where);
      });
    const fkRows = db.prepare(`PRAGMA foreign_key_list("${name}")`).all() as { id: number; table: string; from: string; to: string; on_delete: string }[];
    const foreignKeys = [...new Set(fkRows.map((r) => r.id))].map((id) => {
      const parts = fkRows.filter((r) => r.id === id);
      return describeForeignKey(parts.map((p) => p.from), parts[0]!.table, parts.map((p) => p.to), parts[0]!.on_delete);
    });
    const triggers = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?").all(name) as { name: string }[]).map((t) => t.name);
    shape[name] = {
      columns,
      primaryKey: cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
      indexes: indexes.sort(),
      foreignKeys: foreignKeys.sort(),
      checks: checkExpressions(createSql).map((e) => checkFingerprint(e, Object.keys(columns))).sort(),
      triggers: triggers.sort(),
    };
  }
  return shape;
}

function describeIndex(name: string | undefined, unique: boolean, keys: readonly string[], where: string | undefined): string {
  return `${name ? `${name}: ` : ''}${unique ? 'unique ' : ''}(${keys.join(', ')})${where === undefined ? '' : ` where ${where}`}`;
}

function describeForeignKey(from: readonly string[], table: string, to: readonly string[], onDelete: string): string {
  return `(${from.join(', ')}) -> ${table}(${to.join(', ')}) on delete ${onDelete}`;
}

const PG_ON_DELETE: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** Every table of the database's public schema, with the collation of each text column beside it. */
export async function postgresShape(store: SqlStore<unknown>): Promise<{ shape: SchemaShape; textCollations: Record<string, string | null> }> {
  const q = async <R>(query: RawBuilder<R>): Promise<R[]> => (await query.execute(store.db)).rows;
  const columnRows = await q(sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null; collation_name: string | null }>`
    select table_name, column_name, data_type, is_nullable, column_default, collation_name
    from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`);
  const indexRows = await q(sql<{ table_name: string; index_name: string; is_unique: boolean; is_primary: boolean; predicate: string | null; constraint_backed: boolean; keys: string[] }>`
    select t.relname as table_name, i.relname as index_name, x.indisunique as is_unique, x.indisprimary as is_primary,
           pg_get_expr(x.indpred, x.indrelid) as predicate,
           exists (select 1 from pg_constraint c where c.conindid = x.indexrelid) as constraint_backed,
           array(select a.attname || case when (x.indoption[k.n - 1] & 1) = 1 then ' DESC' else '' end
                 from unnest(x.indkey) with ordinality as k(attnum, n)
                 join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum order by k.n) as keys
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
    join pg_namespace s on s.oid = t.relnamespace where s.nspname = 'public'`);
  const constraintRows = await q(sql<{ table_name: string; contype: string; def: string; from_cols: string[]; to_table: string | null; to_cols: string[]; deltype: string }>`
    select t.relname as table_name, c.contype, pg_get_constraintdef(c.oid) as def,
           array(select a.attname::text from unnest(c.conkey) with ordinality k(attnum, n) join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.n) as from_cols,
           r.relname as to_table,
           array(select a.attname::text from unnest(c.confkey) with ordinality k(attnum, n) join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.n) as to_cols,
           c.confdeltype as deltype
    from pg_constraint c join pg_class t on t.oid = c.conrelid left join pg_class r on r.oid = c.confrelid
    join pg_namespace s on s.oid = t.relnamespace where s.nspname = 'public' and c.contype in ('f', 'c')`);
  const triggerRows = await q(sql<{ table_name: string; trigger_name: string }>`
    select t.relname as table_name, g.tgname as trigger_name from pg_trigger g join pg_class t on t.oid = g.tgrelid
    join pg_namespace s on s.oid = t.relnamespace where s.nspname = 'public' and not g.tgisinternal`);

  const shape: SchemaShape = {};
  const textCollations: Record<string, string | null> = {};
  for (const table of [...new Set(columnRows.map((r) => r.table_name))]) {
    const columns: Record<string, ColumnShape> = {};
    for (const c of columnRows.filter((r) => r.table_name === table)) {
      columns[c.column_name] = { type: family(c.data_type), notNull: c.is_nullable === 'NO', default: c.column_default?.replace(/::[a-z_]+$/i, '') ?? null };
      if (c.data_type === 'text') textCollations[`${table}.${c.column_name}`] = c.collation_name;
    }
    const mine = indexRows.filter((r) => r.table_name === table);
    const constraints = constraintRows.filter((r) => r.table_name === table);
    shape[table] = {
      columns,
      primaryKey: mine.find((r) => r.is_primary)?.keys ?? [],
      indexes: mine
        .filter((r) => !r.is_primary)
        .map((r) => describeIndex(r.constraint_backed ? undefined : r.index_name, r.is_unique, r.keys, r.predicate === null ? undefined : checkFingerprint(r.predicate, Object.keys(columns))))
        .sort(),
      foreignKeys: constraints
        .filter((c) => c.contype === 'f')
        .map((c) => describeForeignKey(c.from_cols, c.to_table!, c.to_cols, PG_ON_DELETE[c.deltype]!))
        .sort(),
      checks: constraints
        .filter((c) => c.contype === 'c')
        .map((c) => checkFingerprint(c.def.replace(/^CHECK /, ''), Object.keys(columns)))
        .sort(),
      triggers: triggerRows.filter((r) => r.table_name === table).map((r) => r.trigger_name).sort(),
    };
  }
  return { shape, textCollations };
}
