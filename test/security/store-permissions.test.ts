import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { createCore } from '../../src/core.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** A logger whose records land in `records`, parsed. */
function capturingLogger() {
  const records: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { records, logger: pino({ level: 'info' }, stream) };
}

describe('the data dir is readable by its owner only', () => {
  const tempDir = useTempDir();
  let savedUmask: number;
  // The usual umask, under which mkdir and open without explicit modes make 0755 dirs and 0644 files.
  beforeEach(() => {
    savedUmask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(savedUmask);
  });

  it('creates the data dir (and its missing parents) 0700, and agentphone.db, -wal, -shm and admin-token 0600, whatever the umask', async () => {
    const parent = join(tempDir(), 'srv');
    const dataDir = join(parent, 'agentphone', 'data');
    const core = await createCore(validateConfig({ dataDir }), silentLogger());
    try {
      expect(modeOf(parent)).toBe('700');
      expect(modeOf(join(parent, 'agentphone'))).toBe('700');
      expect(modeOf(dataDir)).toBe('700');
      expect(modeOf(join(dataDir, 'media'))).toBe('700');
      for (const file of ['agentphone.db', 'agentphone.db-wal', 'agentphone.db-shm', 'admin-token']) {
        expect([file, modeOf(join(dataDir, file))]).toEqual([file, '600']);
      }
    } finally {
      await core.close();
    }
  });

  it('a started gateway keeps its media and everything else under dataDir private too', async () => {
    const dataDir = join(tempDir(), 'data');
    const gw = await startTestGateway(dataDir, { adminToken: null });
    // startGateway tightens the umask; the media store's own modes must hold without it.
    process.umask(0o022);
    try {
      const row = await gw.mms.media.write(Buffer.from('a received picture'), 'image/png', 'p.png');
      const file = gw.mms.media.pathOf(row.sha256);
      expect(modeOf(file)).toBe('600');
      expect(modeOf(join(file, '..'))).toBe('700');
      expect(modeOf(join(dataDir, 'media'))).toBe('700');
      expect(modeOf(dataDir)).toBe('700');
      for (const f of ['agentphone.db', 'agentphone.db-wal', 'agentphone.db-shm', 'admin-token']) expect([f, modeOf(join(dataDir, f))]).toEqual([f, '600']);
    } finally {
      await gw.stop();
    }
  });

  it('warns at start, with path and mode, about an existing data dir and files others can read, and leaves them as they are', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(join(dataDir, 'media'), { recursive: true });
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'media'), 0o755);
    writeFileSync(join(dataDir, 'admin-token'), 'agpadm_0123456789abcdef\n', { mode: 0o644 });
    await (await createCore(validateConfig({ dataDir }), silentLogger())).close();
    chmodSync(join(dataDir, 'agentphone.db'), 0o644);

    const { records, logger } = capturingLogger();
    const core = await createCore(validateConfig({ dataDir }), logger);
    try {
      const warned = records.filter((r) => r.level === 40).map((r) => ({ msg: r.msg, path: r.path, mode: r.mode, wanted: r.wanted }));
      const msg = 'data dir entry is open to other users: chmod it to the wanted mode';
      expect(warned).toEqual(
        expect.arrayContaining([
          { msg, path: dataDir, mode: '0755', wanted: '0700' },
          { msg, path: join(dataDir, 'agentphone.db'), mode: '0644', wanted: '0600' },
          { msg, path: join(dataDir, 'admin-token'), mode: '0644', wanted: '0600' },
          { msg, path: join(dataDir, 'media'), mode: '0755', wanted: '0700' },
        ]),
      );
      expect(modeOf(dataDir)).toBe('755');
      expect(modeOf(join(dataDir, 'agentphone.db'))).toBe('644');
    } finally {
      await core.close();
    }
  });

  it('says nothing about a data dir that is already private', async () => {
    const dataDir = join(tempDir(), 'data');
    await (await createCore(validateConfig({ dataDir }), silentLogger())).close();
    const { records, logger } = capturingLogger();
    await (await createCore(validateConfig({ dataDir }), logger)).close();
    expect(records.filter((r) => r.level === 40)).toEqual([]);
  });
});
