/**
 * agentphone backup / restore with media.store "database" on SQLite: the bytes are rows of the
 * snapshot, so nothing is packed from the media directory and nothing counts as missing; the
 * restored store serves them. A medium stored as a file before the switch is still packed.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DatabaseMediaStore, FileMediaStore, type MediaStoreOptions } from '../../src/mms/index.ts';
import { backupDataDir, DATABASE_FILE, mediaDir, openDatabase, restoreDataDir, sqliteSqlStore } from '../../src/store/index.ts';
import type { Database } from '../../src/store/sql/database.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const IN_DB = Buffer.from('bytes kept in media_blobs \x00\xff');
const AS_FILE = Buffer.from('bytes kept as a file before the switch');

/** Opens a data dir's SQLite store and the media store options on it. */
function openDataDir(dataDir: string): { options: MediaStoreOptions; close(): Promise<void> } {
  const handle = openDatabase(join(dataDir, DATABASE_FILE));
  const store = sqliteSqlStore<Database>(handle);
  const options = { dir: mediaDir(dataDir), store, clock: new ManualClock(Date.parse('2026-12-01T00:00:00Z')), retentionDays: 0, baseUrl: () => 'https://gw.example' };
  return {
    options,
    async close() {
      await store.close();
      handle.close();
    },
  };
}

const tempDir = useTempDir('agentphone-backup-blobs-');

it('backs up media kept in the database with the snapshot, packs only files, and the restore serves both', async () => {
  const live = join(tempDir(), 'live');
  const source = openDataDir(live);
  const file = new FileMediaStore(source.options);
  const old = await file.write(AS_FILE, 'image/png', 'old.png');
  await file.insert([old], 'msg_old');
  const db = new DatabaseMediaStore(source.options);
  const kept = await db.write(IN_DB, 'image/png', 'new.png');
  await db.insert([kept], 'msg_new');
  await source.close();

  const backup = join(tempDir(), 'agentphone.backup');
  expect(await backupDataDir(live, backup)).toMatchObject({ mediaFiles: 1, mediaMissing: 0 });
  const restored = join(tempDir(), 'restored');
  expect(restoreDataDir(restored, backup)).toMatchObject({ mediaFiles: 1 });

  const target = openDataDir(restored);
  try {
    const media = new DatabaseMediaStore(target.options);
    expect((await (await media.lookup(kept.id))!.read())!.equals(IN_DB)).toBe(true);
    expect((await (await media.lookup(old.id))!.read())!.equals(AS_FILE)).toBe(true);
  } finally {
    await target.close();
  }
});
