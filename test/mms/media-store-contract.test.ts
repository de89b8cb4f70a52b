/**
 * The media-store port, both implementations (files, database), on both dialects: what an MMS
 * receive, GET /media, the MCP transcriber, the media cleanup and the retention purge rely on.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mediaLookup } from '../../src/mcp/index.ts';
import { createMediaStore, FileMediaStore, type MediaStore, type MediaStoreKind } from '../../src/mms/index.ts';
import { openPostgresStore, purgeStored, type SqlStore } from '../../src/store/index.ts';
import type { Database } from '../../src/store/sql/database.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const DAY = 86_400_000;
const BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3, 0xff, 0xfe]);

async function bytesOf(body: Readable | Buffer | undefined): Promise<Buffer> {
  if (!body) throw new Error('no bytes');
  return Buffer.isBuffer(body) ? body : buffer(body);
}

async function blobs(store: SqlStore<Database>): Promise<string[]> {
  return (await store.db.selectFrom('media_blobs').select('media_id').orderBy('media_id').execute()).map((r) => r.media_id);
}

/** Files under the media directory (none when it does not exist). */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : [];
}

describeOnEachDialect('media store', (open) => {
  const tempDir = useTempDir('agentphone-media-store-');

  for (const kind of ['files', 'database'] as const satisfies readonly MediaStoreKind[]) {
    describe(`${kind}`, () => {
      let t: TestStore;
      let dir: string;
      let clock: ManualClock;
      let media: MediaStore;
      const make = (store: SqlStore<Database>, mediaDir = dir, k: MediaStoreKind = kind) =>
        createMediaStore(k, { dir: mediaDir, store, clock, retentionDays: 2, baseUrl: () => 'https://gw.example/' });

      beforeEach(async () => {
        t = await open();
        dir = `${tempDir()}/media`;
        clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
        media = make(t.store);
      });
      afterEach(() => t.close());

      it('gives back the same bytes, sanitised type and name, by id, and only where it said it keeps them', async () => {
        const staged = await media.write(BYTES, 'IMAGE/PNG; name=x', 'a\u202epng.exe');
        const [stored] = await t.store.tx((tx) => media.insert([staged], 'msg_1', tx));
        expect(stored).toEqual({ id: staged.id, url: `https://gw.example/media/${staged.id}`, contentType: 'image/png', size: BYTES.length });
        const found = await media.lookup(staged.id);
        expect(found).toMatchObject({ id: staged.id, contentType: 'image/png', name: 'a_png.exe', size: BYTES.length, messageId: 'msg_1' });
        expect((await found!.read())!.equals(BYTES)).toBe(true);
        expect((await bytesOf(await found!.body())).equals(BYTES)).toBe(true);
        if (kind === 'database') {
          expect(await blobs(t.store)).toEqual([staged.id]);
          expect(filesUnder(dir)).toEqual([]);
        } else {
          expect(await blobs(t.store)).toEqual([]);
          expect(filesUnder(dir)).toEqual([staged.sha256]);
        }
        expect(await media.lookup('nosuchid')).toBeUndefined();
      });

      it('keeps neither row nor bytes in the store when the message transaction rolls back', async () => {
        const staged = await media.write(BYTES, 'image/png', null);
        await expect(
          t.store.tx(async (tx) => {
            await media.insert([staged], 'msg_1', tx);
            throw new Error('the message insert failed');
          }),
        ).rejects.toThrow('the message insert failed');
        expect(await media.lookup(staged.id)).toBeUndefined();
        expect(await blobs(t.store)).toEqual([]);
      });

      it('stops serving at expiry, and its cleanup deletes the rows and their bytes', async () => {
        const a = await media.write(BYTES, 'image/png', null);
        await media.insert([a], 'msg_1');
        clock.advance(DAY);
        const b = await media.write(BYTES, 'image/png', null);
        await media.insert([b], 'msg_2');
        clock.advance(DAY + 1);
        expect(await media.lookup(a.id)).toBeUndefined();
        expect(await media.cleanup()).toBe(1);
        expect(await blobs(t.store)).toEqual(kind === 'database' ? [b.id] : []);
        expect((await (await media.lookup(b.id))!.read())!.equals(BYTES)).toBe(true);
        clock.advance(DAY);
        expect(await media.cleanup()).toBe(1);
        expect(await blobs(t.store)).toEqual([]);
        expect(filesUnder(dir)).toEqual([]);
      });

      it('is purged with its message by the retention purge, bytes and all', async () => {
        const staged = await media.write(BYTES, 'image/png', null);
        await media.insert([staged], 'msg_1');
        const counts = await purgeStored(t.store, dir, { messagesBeforeMs: clock.now() + 1 });
        expect(counts).toMatchObject({ media: 1, mediaFiles: kind === 'files' ? 1 : 0 });
        expect(await media.lookup(staged.id)).toBeUndefined();
        expect(await blobs(t.store)).toEqual([]);
        expect(filesUnder(dir)).toEqual([]);
      });

      it('refuses to hand the transcriber more than its bound (413), by the stored size', async () => {
        const staged = await media.write(BYTES, 'audio/amr', null);
        await media.insert([staged], 'msg_1');
        await expect(mediaLookup(media, BYTES.length - 1).read(staged.id)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
        expect(Buffer.from((await mediaLookup(media, BYTES.length).read(staged.id))!.data).equals(BYTES)).toBe(true);
      });

      it(kind === 'database' ? 'is served by another node with its own data dir' : 'is served only where its file is: not by a node with another data dir', async () => {
        const staged = await media.write(BYTES, 'image/png', 'p.png');
        await media.insert([staged], 'msg_1');
        // On PostgreSQL a second connection pool, as another node has; on SQLite the same file.
        const other = t.url ? await openPostgresStore<Database>({ url: t.url }) : t.store;
        try {
          const found = await make(other, `${tempDir()}/media`).lookup(staged.id);
          expect(found?.name).toBe('p.png');
          if (kind === 'database') expect((await found!.read())!.equals(BYTES)).toBe(true);
          else expect([await found!.read(), await found!.body()]).toEqual([undefined, undefined]);
        } finally {
          if (other !== t.store) await other.close();
        }
      });
    });
  }

  it('the database store still serves media stored as files before it was chosen, from this node', async () => {
    const t = await open();
    try {
      const dir = `${tempDir()}/media`;
      const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
      const options = { dir, store: t.store, clock, retentionDays: 0, baseUrl: () => 'https://gw.example' };
      const files = new FileMediaStore(options);
      const staged = await files.write(BYTES, 'image/png', null);
      await files.insert([staged], 'msg_1');
      const found = await createMediaStore('database', options).lookup(staged.id);
      expect((await found!.read())!.equals(BYTES)).toBe(true);
      expect((await bytesOf(await found!.body())).equals(BYTES)).toBe(true);
    } finally {
      await t.close();
    }
  });
});
