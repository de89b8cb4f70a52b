/**
 * The PostgreSQL schema (src/store/sql/pg-migrations) against the SQLite one (src/store/migrations),
 * each freshly migrated: the same tables, columns (type family, NOT NULL, DEFAULT), primary keys,
 * indexes, foreign keys, CHECKs and triggers, and triggers that leave the same rows behind.
 *
 * This suite fails when a SQLite migration adds a table, column, index, key, CHECK or trigger that
 * PostgreSQL lacks (or the other way round): every schema change lands as a migration on both
 * dialects. A difference that is meant to stay goes in DELIBERATE_DIFFERENCES, with its reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/store/migrations/index.ts';
import { migratePostgres, openDatabase, openPostgresStore, PG_MIGRATIONS, sqliteSqlStore, type Db, type SqlStore } from '../../../src/store/index.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { postgresShape, sqliteShape, type SchemaShape } from '../../helpers/schema-shape.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';

/**
 * `table` or `table.column` → why PostgreSQL differs there. None today: schema_version is made
 * alike by both runners, and SQLite's own tables (sqlite_sequence) are never compared.
 */
const DELIBERATE_DIFFERENCES: Readonly<Record<string, string>> = {};

/** The shape with the allowed differences taken out. */
function comparable(shape: SchemaShape): SchemaShape {
  const out: SchemaShape = {};
  for (const [table, t] of Object.entries(shape)) {
    if (table in DELIBERATE_DIFFERENCES) continue;
    const columns = Object.fromEntries(Object.entries(t.columns).filter(([c]) => !(`${table}.${c}` in DELIBERATE_DIFFERENCES)));
    out[table] = { ...t, columns };
  }
  return out;
}

const need = postgresUnavailable();

describeWithTool('PostgreSQL schema parity with SQLite', need === undefined, need ?? '', () => {
  let server: TestPostgres;
  let dir: string;
  let handle: Db;
  let lite: SqlStore<unknown>;
  let pg: SqlStore<unknown>;

  beforeAll(async () => {
    server = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'agentphone-parity-'));
    handle = openDatabase(join(dir, 'agentphone.db'));
    lite = sqliteSqlStore(handle);
    pg = await openPostgresStore({ url: await server.createDatabase() });
    await migratePostgres(pg, PG_MIGRATIONS);
  }, 60_000);
  afterAll(async () => {
    await lite?.close();
    handle?.close();
    await pg?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has every SQLite table with the same columns, keys, indexes, foreign keys, CHECKs and triggers', async () => {
    const expected = comparable(sqliteShape(handle));
    const actual = comparable((await postgresShape(pg)).shape);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    for (const table of Object.keys(expected)) expect(actual[table], table).toEqual(expected[table]);
  });

  it('notices a column that a SQLite migration adds and PostgreSQL lacks', async () => {
    const extra = { version: MIGRATIONS.at(-1)!.version + 1, name: 'probe', up: 'ALTER TABLE messages ADD COLUMN probe TEXT' };
    const probe = openDatabase(join(dir, 'probe.db'), { migrations: [...MIGRATIONS, extra] });
    try {
      const actual = comparable((await postgresShape(pg)).shape);
      expect(comparable(sqliteShape(probe)).messages).not.toEqual(actual.messages);
    } finally {
      probe.close();
    }
  });

  it('compares text byte by byte, as SQLite does: every text column of the store is COLLATE "C"', async () => {
    const { textCollations } = await postgresShape(pg);
    // schema_version is the runner's own bookkeeping, never sorted by the store.
    const store = Object.entries(textCollations).filter(([column]) => !column.startsWith('schema_version.'));
    expect(store.length).toBeGreaterThan(100);
    expect(store.filter(([, collation]) => collation !== 'C')).toEqual([]);
  });

  it('keeps conversations alike on both dialects as messages and calls come and go', async () => {
    const results = [];
    for (const store of [lite, pg]) results.push(await playConversations(store.db));
    const [onSqlite, onPostgres] = results;
    expect(onPostgres).toEqual(onSqlite);
    // Both dialects, not merely equal: what migration 017 promises.
    expect(onSqlite).toEqual([
      [conv('A', 20, 2, null), conv('B', 16, 2, null)],
      [conv('A', 25, 1, 12), conv('B', 16, 2, null), conv('C', 40, 0, null)],
      [conv('A', 25, 0, 12), conv('C', 40, 0, null), conv('D', 52, 0, null)],
    ]);
  });

  it('refuses a row that breaks a CHECK, on PostgreSQL as on SQLite', async () => {
    const insert = sql`insert into numbers (id, phone_number, webhook_secret, status, created_at, updated_at)
      values ('num_bad', '+15550009999', 's', 'paused', ${at(0)}, ${at(0)})`;
    await expect(insert.execute(pg.db)).rejects.toMatchObject({ code: '23514', constraint: 'numbers_status_check' });
    await expect(insert.execute(lite.db)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_CHECK' });
  });
});

interface Conversation {
  contact: string;
  last_activity: string;
  unread_count: number;
  read_at: string | null;
}

/** 2026-01-01T00:00:<s>.000Z: ISO text, as the store writes it. */
function at(second: number): string {
  return `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
}

function conv(contact: string, lastSecond: number, unread: number, readSecond: number | null): Conversation {
  return { contact, last_activity: at(lastSecond), unread_count: unread, read_at: readSecond === null ? null : at(readSecond) };
}

/**
 * One number's messages and calls, with the same SQL on either dialect; the conversations after
 * each of three stages: messages in both directions (one skipped as a duplicate), a read mark with
 * messages on both sides of it and calls, then deletions of one message and of several at once.
 */
async function playConversations(db: Kysely<unknown>): Promise<Conversation[][]> {
  const snapshots: Conversation[][] = [];
  const snapshot = async () => {
    const { rows } = await sql<Conversation>`select contact, last_activity, unread_count, read_at from conversations
      where number_id = 'num_1' order by contact`.execute(db);
    snapshots.push(rows);
  };
  const message = (id: string, direction: 'inbound' | 'outbound', contact: string, second: number, dedupeKey = id) =>
    sql`insert into messages (id, number_id, direction, channel, contact, body, status, segments, created_at, updated_at, dedupe_key)
      values (${id}, 'num_1', ${direction}, 'sms', ${contact}, 'hi', ${direction === 'inbound' ? 'received' : 'queued'}, 1, ${at(second)}, ${at(second)}, ${dedupeKey})
      on conflict (dedupe_key) where dedupe_key is not null do nothing`.execute(db);
  const call = (id: string, direction: 'inbound' | 'outbound', contact: string, second: number) =>
    sql`insert into calls (id, number_id, direction, contact, status, created_at)
      values (${id}, 'num_1', ${direction}, ${contact}, 'completed', ${at(second)})`.execute(db);

  await sql`insert into numbers (id, phone_number, webhook_secret, created_at, updated_at)
    values ('num_1', '+15550000001', 'secret', ${at(0)}, ${at(0)})`.execute(db);
  await message('m1', 'inbound', 'A', 10);
  await message('m2', 'outbound', 'A', 20);
  await message('m3', 'inbound', 'B', 15);
  await message('m4', 'inbound', 'B', 16);
  await message('m5', 'inbound', 'A', 5); // older than the last activity: unread, last activity kept
  await message('m1-again', 'inbound', 'A', 30, 'm1'); // a duplicate, not inserted: no effect
  await snapshot();

  await sql`update conversations set read_at = ${at(12)}, unread_count = 0 where number_id = 'num_1' and contact = 'A'`.execute(db);
  await message('m6', 'inbound', 'A', 25); // after the read mark: unread
  await message('m7', 'inbound', 'A', 11); // before it: read already
  await call('c1', 'inbound', 'C', 40); // a conversation of calls only
  await call('c2', 'outbound', 'A', 1);
  await snapshot();

  await sql`delete from messages where id = 'm6'`.execute(db);
  await sql`delete from messages where contact = 'B'`.execute(db); // every message at once: the conversation goes
  await message('m8', 'inbound', 'D', 50);
  await message('m9', 'inbound', 'D', 51);
  await message('m10', 'outbound', 'D', 52);
  await sql`delete from messages where id in ('m8', 'm9')`.execute(db); // two unread at once, one message left
  await sql`delete from messages where contact = 'A'`.execute(db); // kept: a call remains
  await snapshot();
  return snapshots;
}
