import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GroupCommit, openDatabase } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('group commit', () => {
  const tempDir = useTempDir();
  const setup = () => {
    const db = openDatabase(join(tempDir(), 'g.db'), { migrations: [{ version: 1, name: 't', up: 'CREATE TABLE t (v INTEGER UNIQUE)' }] });
    return { db, commits: new GroupCommit(db), insert: db.prepare('INSERT INTO t (v) VALUES (?)') };
  };

  it('commits units submitted together in one transaction, rolling back only the unit that throws', async () => {
    const { db, commits, insert } = setup();
    const results = await Promise.allSettled([
      commits.run(() => insert.run(1).changes),
      commits.run(() => {
        insert.run(2);
        insert.run(1); // violates UNIQUE: this unit, and only this one, is undone
      }),
      commits.run(() => insert.run(3).changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual([1, 3]);
    db.close();
  });

  it('settles nothing before the commit, and fails every unit when the commit fails', async () => {
    const { db, commits, insert } = setup();
    const first = commits.run(() => insert.run(10));
    // Nothing is visible to another connection until the batch commits.
    const other = openDatabase(db.name, { migrations: [{ version: 1, name: 't', up: '' }] });
    expect(other.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
    await first;
    expect(other.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
    other.close();
    db.close();
    await expect(commits.run(() => 1)).rejects.toThrow(/not open/);
  });
});
