import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, type DataDirLock } from '../../../src/lifecycle/index.ts';
import { DATABASE_FILE, mediaFilePath, openDatabase } from '../../../src/store/index.ts';
import { cli, cliProcess } from '../../helpers/cli.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';

const SUBSCRIBER = '+15557654321';
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function countMessages(dataDir: string): number {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('agentphone backup / restore', () => {
  const tempDir = useTempDir();
  let gateway: Awaited<ReturnType<typeof startTestGateway>> | undefined;
  let lock: DataDirLock | undefined;
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    lock?.release();
    lock = undefined;
  });

  it('backs up while a gateway runs and writes messages; the restore into a fresh data dir has them and the media', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'live');
    gateway = await startTestGateway(dataDir);
    const gw = gateway;
    const send = async (i: number): Promise<string> => {
      const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body: `message ${i}` }) });
      expect(res.status).toBe(200);
      return ((await res.json()) as { messageId: string }).messageId;
    };
    const firstId = await send(0);
    // A stored media file (the real MediaStore) tied to that message.
    const image = Buffer.from('\x89PNG backup test image bytes');
    const row = await gw.mms.media.write(image, 'image/png', 'a.png');
    await gw.mms.media.insert([row], firstId);
    for (let i = 1; i < 10; i++) await send(i);

    // Sending keeps going while the backup runs.
    let writing = true;
    let sentDuring = 0;
    const writer = (async () => {
      while (writing) {
        await send(100 + sentDuring);
        sentDuring++;
      }
    })();
    const file = join(dir, 'agentphone.backup');
    const backup = await cli(['backup', file, '--json'], { AGENTPHONE_DATA_DIR: dataDir });
    writing = false;
    await writer;
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const made = JSON.parse(backup.stdout) as { messages: number; mediaFiles: number; mediaMissing: number };
    expect(made.messages).toBeGreaterThanOrEqual(10);
    expect(made.mediaFiles).toBe(1);
    expect(existsSync(`${file}-wal`)).toBe(false);

    const restored = join(dir, 'restored');
    const res = await cli(['restore', file, '--json'], { AGENTPHONE_DATA_DIR: restored });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ messages: made.messages, mediaFiles: 1 });
    expect(countMessages(restored)).toBe(made.messages);
    const db = openDatabase(join(restored, DATABASE_FILE));
    try {
      const bodies = db.prepare<[], { body: string }>("SELECT body FROM messages WHERE body LIKE 'message %'").all().map((r) => r.body);
      for (let i = 0; i < 10; i++) expect(bodies).toContain(`message ${i}`);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'agentphone_backup_media'").get()).toBeUndefined();
      expect(db.prepare('SELECT sha256 FROM media WHERE id = ?').get(row.id)).toEqual({ sha256: row.sha256 });
    } finally {
      db.close();
    }
    expect(readFileSync(mediaFilePath(join(restored, 'media'), row.sha256))).toEqual(image);
    expect(readdirSync(restored).filter((f) => f.endsWith('.bak') || f.endsWith('.restore'))).toEqual([]);
  });

  it('refuses to restore while a gateway holds the data dir, and leaves the store as it was', async () => {
    const dir = tempDir();
    const source = join(dir, 'source');
    openDatabase(join(source, DATABASE_FILE)).close();
    const file = join(dir, 'b.backup');
    expect((await cli(['backup', file], { AGENTPHONE_DATA_DIR: source })).code).toBe(0);

    const dataDir = join(dir, 'held');
    openDatabase(join(dataDir, DATABASE_FILE)).close();
    const before = sha256(join(dataDir, DATABASE_FILE));
    lock = acquireDataDirLock(dataDir);
    // Another process, as a real restore would be.
    const res = await cliProcess(['restore', file], { AGENTPHONE_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/in use by another AgentPhone gateway \(pid \d+\)/);
    expect(sha256(join(dataDir, DATABASE_FILE))).toBe(before);
  });

  it('refuses a corrupt or foreign file without touching the existing store', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const db = openDatabase(join(dataDir, DATABASE_FILE));
    db.prepare("INSERT INTO api_keys (id, name, key_hash, key_prefix, all_numbers, created_at) VALUES ('k1', 'n', x'00', 'p', 1, 'now')").run();
    db.close();
    const before = sha256(join(dataDir, DATABASE_FILE));
    const env = { AGENTPHONE_DATA_DIR: dataDir };

    const garbage = join(dir, 'garbage.backup');
    writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
    const notDb = await cli(['restore', garbage], env);
    expect(notDb.code).toBe(1);
    expect(notDb.stderr).toContain('is not an AgentPhone backup');

    // A real backup with damaged pages: the header is intact, the b-trees are not.
    const good = join(dir, 'good.backup');
    expect((await cli(['backup', good], env)).code).toBe(0);
    const bytes = readFileSync(good);
    bytes.fill(0xff, 4096 + 100, bytes.length - 1);
    const damaged = join(dir, 'damaged.backup');
    writeFileSync(damaged, bytes);
    const bad = await cli(['restore', damaged], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/damaged|not an AgentPhone backup/);

    const foreign = join(dir, 'foreign.backup');
    const other = new Database(foreign);
    other.exec('CREATE TABLE t (x)');
    other.close();
    const noSchema = await cli(['restore', foreign], env);
    expect(noSchema.code).toBe(1);
    expect(noSchema.stderr).toContain('no schema_version table');

    expect(sha256(join(dataDir, DATABASE_FILE))).toBe(before);
    expect(readdirSync(dataDir).filter((f) => f.endsWith('.bak') || f.endsWith('.restore'))).toEqual([]);
  });

  it('refuses a backup from a newer release (a schema version this build does not know)', async () => {
    const dir = tempDir();
    const source = join(dir, 'source');
    const db = openDatabase(join(source, DATABASE_FILE));
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(9999, 'future', 'now');
    db.close();
    const file = join(dir, 'future.backup');
    expect((await cli(['backup', file], { AGENTPHONE_DATA_DIR: source })).code).toBe(0);
    const res = await cli(['restore', file], { AGENTPHONE_DATA_DIR: join(dir, 'fresh') });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('schema version 9999');
    expect(existsSync(join(dir, 'fresh', DATABASE_FILE))).toBe(false);
  });

  it('refuses backup and restore when the store is PostgreSQL, and says what backs it up instead', async () => {
    const dir = tempDir();
    const env = { AGENTPHONE_DATA_DIR: dir, AGENTPHONE_DATABASE_URL: 'postgres://ap:secret-pw@db.internal/agentphone' };
    for (const verb of ['backup', 'restore']) {
      const res = await cli([verb, join(dir, 'x.backup')], env);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('pg_dump');
      expect(res.stderr).not.toContain('secret-pw');
    }
    expect(existsSync(join(dir, DATABASE_FILE))).toBe(false);
  });
});
