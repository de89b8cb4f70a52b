import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { acquireDataDirLock, type DataDirLock } from '../../../src/lifecycle/index.ts';
import { CallsRepository, DATABASE_FILE, mediaFilePath, MIGRATIONS, openDatabase, openPostgresStore, type SqlStore } from '../../../src/store/index.ts';
import { sqliteTablesInForeignKeyOrder } from '../../../src/store/sql/sqlite-schema-walk.ts';
import { cli, cliProcess } from '../../helpers/cli.ts';
import { freePort } from '../../helpers/free-port.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { WebhookReceiver } from '../../helpers/webhook-receiver.ts';

const SUBSCRIBER = '+15557654321';
const PASSWORD = 'never-print-me-4711';
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const LARGE_TEXT = 'Grüße 👋🏽 — 你好 '.repeat(40_000);

/** The URL with a password (the test server trusts loopback, so any password connects). */
const withPassword = (url: string): string => url.replace('agentphone@', `agentphone:${PASSWORD}@`);

/** Every table's rows from both sides (but `except`'s), ordered by primary key, same column order; each table's SQLite row count. */
async function compareAll(file: string, pg: SqlStore<unknown>, except: readonly string[] = []): Promise<Map<string, number>> {
  const db = new Database(file, { readonly: true });
  const counts = new Map<string, number>();
  try {
    for (const t of sqliteTablesInForeignKeyOrder(db)) {
      const info = db.pragma(`table_info("${t.name}")`) as Array<{ name: string; pk: number }>;
      const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`);
      const order = (pk.length > 0 ? pk : info.map((c) => `"${c.name}"`)).join(', ');
      const list = t.columns.map((c) => `"${c}"`).join(', ');
      const lite = db.prepare(`SELECT ${list} FROM "${t.name}" ORDER BY ${order}`).all() as Record<string, unknown>[];
      counts.set(t.name, lite.length);
      if (except.includes(t.name)) continue;
      const { rows } = await sql.raw<Record<string, unknown>>(`select ${list} from "${t.name}" order by ${order}`).execute(pg.db);
      // Only numeric types may differ (bigint vs number); text, bytes and NULLs must be identical.
      const normalise = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
      expect(rows.map(normalise), t.name).toEqual(lite.map(normalise));
    }
  } finally {
    db.close();
  }
  return counts;
}

async function rowTotal(pg: SqlStore<unknown>): Promise<number> {
  const { rows: tables } = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name <> 'schema_version'`.execute(pg.db);
  let total = 0;
  for (const { name } of tables) {
    const { rows } = await sql<{ n: number }>`select count(*)::integer as n from ${sql.table(name)}`.execute(pg.db);
    total += rows[0]?.n ?? 0;
  }
  return total;
}

describeWithTool('agentphone migrate-store', postgresUnavailable() === undefined, postgresUnavailable() ?? '', () => {
  const tempDir = useTempDir();
  let server: TestPostgres;
  let lock: DataDirLock | undefined;
  const stores: SqlStore<unknown>[] = [];
  const open = async (url: string): Promise<SqlStore<unknown>> => {
    const store = await openPostgresStore<unknown>({ url });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    lock?.release();
    lock = undefined;
    for (const s of stores.splice(0)) await s.close();
  });

  it("copies a gateway's store row for row (messages, MMS media, calls, opt-outs, keys, webhook deliveries, conversations); ids continue; the password never shows", async () => {
    const dataDir = join(tempDir(), 'data');
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    const gw = await startTestGateway(dataDir);
    try {
      await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
      await gw.core.apiKeys.create({ name: 'scoped', numberIds: [gw.numberB] });
      for (const body of ['Hello!', 'Привет 👋🏽 '.repeat(20), 'x'.repeat(200)]) {
        const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body }) });
        expect(res.status).toBe(200);
      }
      const phoneA = gw.core.numbers.get(gw.numberA)!.phoneNumber;
      gw.network!.text(SUBSCRIBER, phoneA, 'first inbound');
      await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
      // Read, then one more inbound: the conversation has a read mark and one unread after it.
      await gw.core.conversations.markRead(gw.numberA, SUBSCRIBER);
      gw.network!.text(SUBSCRIBER, phoneA, 'Grüße aus Köln — 你好世界 '.repeat(10));
      gw.network!.text('+15550001111', phoneA, 'STOP');
      await receiver.waitFor(() => receiver.events('message.inbound').length === 3);
      await until(async () => (await gw.core.outbox.listForNumber(gw.numberA, null, 50)).every((e) => e.status === 'delivered'), 15_000, 'webhooks delivered');
      const [sent] = await gw.core.messages.list(gw.numberA, { direction: 'outbound', limit: 1 });
      const media = await gw.mms.media.write(ALL_BYTES, 'image/png', 'bytes.png');
      await gw.mms.media.insert([media], sent!.id);
      await gw.core.optOuts.adminOptOut(gw.numberA, '+15550002222', { actor: 'ops', note: 'asked by phone — ☎' });
      const calls = new CallsRepository(gw.core.store.db);
      await calls.insert({ id: 'call_m1', numberId: gw.numberA, direction: 'inbound', contact: SUBSCRIBER, status: 'in-progress', sipCallId: 'sip-1', greeting: null, instructions: 'be brief', apiKeyId: null, createdAt: new Date().toISOString() });
      await calls.addTurn('call_m1', { callerText: 'hallo ünïcödé', dtmf: null, action: 'reply', agentReply: 'Hi', createdAt: new Date().toISOString() });
      await calls.setHeardFraction('call_m1', 0.625);
    } finally {
      await gw.stop();
      await receiver.stop();
    }
    // Rows the gateway writes rarely, with what must round-trip: every byte value, large text, NULLs.
    const db = openDatabase(join(dataDir, DATABASE_FILE));
    db.prepare('INSERT INTO mms_raw_pushes (line_id, reason, error_code, error_at, data, created_at) VALUES (?, ?, NULL, NULL, ?, ?)').run('virtual-1', LARGE_TEXT, ALL_BYTES, 2 ** 40);
    db.prepare('INSERT INTO sim_inbox (phone, channel, sender, subject, body, parts, received_at) VALUES (?, ?, ?, NULL, ?, 1, ?)').run(SUBSCRIBER, 'mms', '+1555', LARGE_TEXT, 'now');
    // AUTOINCREMENT: the highest audit id deleted; PostgreSQL must not hand it out again either.
    const top = db.prepare<[], { id: number }>('SELECT MAX(id) AS id FROM opt_out_audit').get()!.id;
    db.prepare('DELETE FROM opt_out_audit WHERE id = ?').run(top);
    db.close();

    const url = await server.createDatabase();
    const res = await cli(['migrate-store', '--to', withPassword(url), '--batch', '2'], { AGENTPHONE_DATA_DIR: dataDir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
    expect(res.stdout).toContain(`into PostgreSQL at 127.0.0.1:${server.port}/`);
    expect(res.stdout).toMatch(/^messages: 7 rows$/m);
    expect(res.stdout).toMatch(/^conversations: 2 rows$/m);
    // media.store "auto" keeps media in the database on PostgreSQL: the file is copied in.
    expect(res.stdout).toContain(`Media: 1 files (256 bytes) under ${join(dataDir, 'media')} copied into the database (media_blobs)`);

    const pg = await open(url);
    const counts = await compareAll(join(dataDir, DATABASE_FILE), pg, ['media_blobs']);
    const { rows: blobs } = await sql<{ media_id: string; data: Buffer; name: string }>`select b.media_id, b.data, m.name from media_blobs b join media m on m.id = b.media_id`.execute(pg.db);
    expect(blobs).toEqual([{ media_id: expect.any(String), data: ALL_BYTES, name: 'bytes.png' }]);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(res.stdout).toContain(`total: ${total} rows in ${counts.size} tables`);
    for (const table of ['numbers', 'api_keys', 'api_key_numbers', 'messages', 'message_parts', 'outbox', 'media', 'calls', 'call_turns', 'opt_outs', 'opt_out_audit', 'conversations', 'mms_raw_pushes', 'sim_inbox']) {
      expect(counts.get(table), table).toBeGreaterThan(0);
    }
    const { rows: conv } = await sql<{ unread_count: number; read_at: string | null }>`select unread_count, read_at from conversations where contact = ${SUBSCRIBER}`.execute(pg.db);
    expect(conv).toEqual([{ unread_count: 1, read_at: expect.any(String) }]);

    // The identity sequences continue past the copied ids (and past the deleted AUTOINCREMENT id).
    const { rows: next } = await sql<{ id: number }>`insert into opt_out_audit (number_id, contact, action, source, actor, at)
      select number_id, contact, action, source, actor, at from opt_out_audit limit 1 returning id`.execute(pg.db);
    expect(next[0]!.id).toBe(top + 1);
    const { rows: push } = await sql<{ id: number }>`insert into mms_raw_pushes (line_id, reason, data, created_at) values ('l', 'r', ${Buffer.from([0])}, 1) returning id`.execute(pg.db);
    expect(push[0]!.id).toBe(2);

    // A second run into the now non-empty database is refused and changes nothing.
    const before = await rowTotal(pg);
    const again = await cli(['migrate-store', '--to', url], { AGENTPHONE_DATA_DIR: dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('The PostgreSQL database is not empty: table api_keys holds rows');
    expect(await rowTotal(pg)).toBe(before);
  }, 120_000);

  /** A stopped gateway's store with one media row and its file (as FileMediaStore writes them). */
  function storeWithMedia(dataDir: string, data: Buffer, fileData = data): void {
    const db = openDatabase(join(dataDir, DATABASE_FILE));
    const sha = createHash('sha256').update(data).digest('hex');
    db.prepare("INSERT INTO media (id, sha256, content_type, size, name, message_id, created_at, expires_at) VALUES ('m1', ?, 'image/png', ?, 'a.png', NULL, 1, NULL)").run(sha, data.length);
    db.prepare("INSERT INTO media (id, sha256, content_type, size, name, message_id, created_at, expires_at) VALUES ('m2', ?, 'image/png', 3, NULL, NULL, 1, NULL)").run('0'.repeat(64));
    db.close();
    mkdirSync(dirname(mediaFilePath(join(dataDir, 'media'), sha)), { recursive: true });
    writeFileSync(mediaFilePath(join(dataDir, 'media'), sha), fileData);
  }

  it('leaves media files in the data dir under media.store files, and copies nothing when a file does not match its row', async () => {
    const dataDir = join(tempDir(), 'files');
    storeWithMedia(dataDir, ALL_BYTES);
    const config = join(dataDir, '..', 'files.yaml');
    writeFileSync(config, 'media:\n  store: files\n');
    const url = await server.createDatabase();
    const res = await cli(['migrate-store', '--to', url, '--json'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_CONFIG: config });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toMatchObject({ media: { store: 'files', files: 1 } });
    const pg = await open(url);
    const { rows } = await sql<{ n: number }>`select count(*)::integer as n from media_blobs`.execute(pg.db);
    expect(rows[0]!.n).toBe(0);

    // Into the database: a row with no file (m2) stays without bytes; a file whose bytes are not its row's refuses all.
    const counted = join(tempDir(), 'counted');
    storeWithMedia(counted, ALL_BYTES);
    const copied = await cli(['migrate-store', '--to', await server.createDatabase(), '--json'], { AGENTPHONE_DATA_DIR: counted });
    expect(JSON.parse(copied.stdout)).toMatchObject({ media: { store: 'database', copied: 1, bytes: 256, missing: 1 } });
    const tampered = join(tempDir(), 'tampered');
    storeWithMedia(tampered, ALL_BYTES, Buffer.from(ALL_BYTES).reverse());
    const target = await server.createDatabase();
    const refused = await cli(['migrate-store', '--to', target], { AGENTPHONE_DATA_DIR: tampered });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('does not match its hash; nothing was copied');
    expect(await rowTotal(await open(target))).toBe(0);
  });

  it('refuses while a gateway holds the data dir, before touching the target', async () => {
    const dataDir = join(tempDir(), 'held');
    openDatabase(join(dataDir, DATABASE_FILE)).close();
    lock = acquireDataDirLock(dataDir);
    const url = await server.createDatabase();
    // Another process, as the operator's command would be.
    const res = await cliProcess(['migrate-store', '--to', url], { AGENTPHONE_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/in use by another AgentPhone gateway \(pid \d+\)/);
    const pg = await open(url);
    const { rows } = await sql<{ n: number }>`select count(*)::integer as n from information_schema.tables where table_schema = current_schema()`.execute(pg.db);
    expect(rows[0]!.n).toBe(0);
  });

  it('leaves the target empty when a row fails mid-copy (a CHECK PostgreSQL enforces), and names the table', async () => {
    const dataDir = join(tempDir(), 'bad');
    const db = openDatabase(join(dataDir, DATABASE_FILE));
    db.prepare("INSERT INTO api_keys (id, name, key_hash, key_prefix, all_numbers, created_at) VALUES ('k1', 'n', x'00ff', 'p', 1, 'now')").run();
    db.prepare("INSERT INTO numbers (id, phone_number, webhook_secret, created_at, updated_at) VALUES ('num_1', '+15550000001', 's', 'now', 'now')").run();
    for (let i = 0; i < 5; i++) {
      db.prepare("INSERT INTO messages (id, number_id, direction, channel, contact, body, status, segments, created_at, updated_at) VALUES (?, 'num_1', 'outbound', 'sms', ?, 'hi', 'sent', 1, 'now', 'now')").run(`msg_${i}`, SUBSCRIBER);
    }
    // A status SQLite would refuse too, written with its CHECKs off: PostgreSQL refuses it mid-copy.
    db.pragma('ignore_check_constraints = ON');
    db.prepare("INSERT INTO messages (id, number_id, direction, channel, contact, body, status, segments, created_at, updated_at) VALUES ('msg_z', 'num_1', 'outbound', 'sms', ?, 'hi', 'bogus', 1, 'now', 'now')").run(SUBSCRIBER);
    db.close();
    const url = await server.createDatabase();
    const res = await cli(['migrate-store', '--to', url, '--batch', '2'], { AGENTPHONE_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Copying table messages failed');
    expect(res.stderr).toContain('messages_status_check');
    const pg = await open(url);
    expect(await rowTotal(pg)).toBe(0);
  });

  it('refuses a store not at this release’s schema version, and a SQLite column PostgreSQL lacks', async () => {
    const old = join(tempDir(), 'old');
    openDatabase(join(old, DATABASE_FILE), { migrations: MIGRATIONS.slice(0, -1) }).close();
    const url = await server.createDatabase();
    const stale = await cli(['migrate-store', '--to', url], { AGENTPHONE_DATA_DIR: old });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('start the gateway once with this release');

    const extra = join(tempDir(), 'extra');
    const db = openDatabase(join(extra, DATABASE_FILE));
    db.exec('ALTER TABLE numbers ADD COLUMN carrier_note TEXT');
    db.close();
    const res = await cli(['migrate-store', '--to', url], { AGENTPHONE_DATA_DIR: extra });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('The PostgreSQL table numbers has no column carrier_note');
  });

  it('names host:port/database, never the password, when the target cannot be reached; a bad --batch is a usage error', async () => {
    const dataDir = join(tempDir(), 'data');
    openDatabase(join(dataDir, DATABASE_FILE)).close();
    const closed = await freePort();
    const res = await cli(['migrate-store', '--to', `postgres://agentphone:${PASSWORD}@127.0.0.1:${closed}/agentphone`], { AGENTPHONE_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`Cannot connect to PostgreSQL at 127.0.0.1:${closed}/agentphone`);
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
    const batch = await cli(['migrate-store', '--to', server.url, '--batch', '0'], { AGENTPHONE_DATA_DIR: dataDir });
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain('--batch must be a positive integer');
  });
});
