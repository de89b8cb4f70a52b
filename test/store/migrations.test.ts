import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.ts';
import { currentSchemaVersion, MIGRATIONS, openDatabase, type Migration } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('store migrations', () => {
  const tempDir = useTempDir();

  it('creates a fresh database at the latest version with WAL and foreign keys', () => {
    const db = openDatabase(join(tempDir(), 'nested', 'a.db'));
    const latest = Math.max(...MIGRATIONS.map((m) => m.version));
    expect(currentSchemaVersion(db)).toBe(latest);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    db.close();
  });

  it('versions are unique and increasing', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
  });

  it('upgrades an older database, keeping its data', () => {
    const file = join(tempDir(), 'b.db');
    const v1: Migration[] = [{ version: 1, name: 'one', up: 'CREATE TABLE t (x INTEGER);' }];
    const db1 = openDatabase(file, { migrations: v1 });
    db1.prepare('INSERT INTO t VALUES (42)').run();
    db1.close();
    const v2 = [...v1, { version: 2, name: 'two', up: 'ALTER TABLE t ADD COLUMN y TEXT DEFAULT \'n\';' }];
    const db2 = openDatabase(file, { migrations: v2 });
    expect(currentSchemaVersion(db2)).toBe(2);
    expect(db2.prepare('SELECT x, y FROM t').get()).toEqual({ x: 42, y: 'n' });
    db2.close();
  });

  it('applies a lower-numbered migration that lands after a higher one was applied', () => {
    const file = join(tempDir(), 'gap.db');
    const one: Migration = { version: 1, name: 'one', up: 'CREATE TABLE a (x INTEGER);' };
    const three: Migration = { version: 3, name: 'three', up: 'CREATE TABLE c (x INTEGER);' };
    openDatabase(file, { migrations: [one, three] }).close();
    const db = openDatabase(file, { migrations: [one, { version: 2, name: 'two', up: 'CREATE TABLE b (x INTEGER);' }, three] });
    expect(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual([1, 2, 3]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'b'").pluck().get()).toBe('b');
    db.close();
  });

  it('applies nothing when a migration fails: the whole upgrade is one transaction', () => {
    const file = join(tempDir(), 'c.db');
    openDatabase(file, { migrations: [{ version: 1, name: 'one', up: 'CREATE TABLE t (x);' }] }).close();
    const broken: Migration[] = [
      { version: 1, name: 'one', up: 'CREATE TABLE t (x);' },
      { version: 2, name: 'two', up: 'CREATE TABLE u (y);' },
      { version: 3, name: 'three', up: 'THIS IS NOT SQL;' },
    ];
    expect(() => openDatabase(file, { migrations: broken })).toThrow();
    const db = openDatabase(file, { migrations: broken.slice(0, 1) });
    expect(currentSchemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'u'").pluck().get()).toBe(0);
    db.close();
  });

  it('refuses a database written by newer code, without changing it', () => {
    const file = join(tempDir(), 'd.db');
    openDatabase(file, { migrations: [...MIGRATIONS, { version: 999, name: 'future', up: 'CREATE TABLE f (x);' }] }).close();
    expect(() => openDatabase(file)).toThrow(StoreError);
    expect(() => openDatabase(file)).toThrow(/schema version 999 .* newer release/);
    const db = openDatabase(file, { migrations: [...MIGRATIONS, { version: 999, name: 'future', up: '' }] });
    expect(currentSchemaVersion(db)).toBe(999);
    db.close();
  });
});
