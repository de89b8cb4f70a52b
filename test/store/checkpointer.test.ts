import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { openDatabase, WalCheckpointer } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';

describe('WAL checkpoints in their own thread', () => {
  const tempDir = useTempDir();

  it('keeps the main connection from checkpointing, folds the WAL from the thread, and truncates it on stop', async () => {
    const file = join(tempDir(), 'c.db');
    const db = openDatabase(file, { migrations: [{ version: 1, name: 't', up: 'CREATE TABLE t (v TEXT)' }] });
    const checkpointer = WalCheckpointer.start(db, silentLogger(), 20);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 3000; i++) insert.run('x'.repeat(200));
    // The thread's PASSIVE checkpoint copies committed pages into the database file.
    await until(() => statSync(file).size > 500_000, 10_000, 'pages checkpointed into the database file');
    await checkpointer.stop();
    expect(statSync(`${file}-wal`).size).toBe(0);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(3000);
    db.close();
  });
});
