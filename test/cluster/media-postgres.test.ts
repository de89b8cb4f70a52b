/**
 * Media on a cluster: two real gateway nodes in this process on one PostgreSQL, each with its
 * own data dir, media.store left at "auto" (database on PostgreSQL). An MMS received on node B
 * is served by node A at /media/<id> with the same bytes and the same locked-down headers; the
 * retention purge through node A removes it for both.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { purgeStored } from '../../src/store/index.ts';
import { noisePng } from '../mms/media-server.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { postgresUnavailable } from '../helpers/postgres.ts';
import { usePostgresNodes, type TestNode } from '../helpers/postgres-nodes.ts';
import { until } from '../helpers/wait.ts';


const LINE_A = { id: 'line-a', number: '+15550000021', dialect: 'quectel' };
const LINE_B = { id: 'line-b', number: '+15550000022', dialect: 'simcom' };
const SUBSCRIBER = '+15557770021';
const SERVED_HEADERS = ['content-type', 'content-disposition', 'content-length', 'x-content-type-options', 'content-security-policy', 'cache-control'];
const need = postgresUnavailable();

/** Files under a node's media directory (none when it was never made). */
function mediaFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'media');
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : [];
}

describeWithTool('media on gateway nodes sharing one PostgreSQL', need === undefined, need ?? '', () => {
  const cluster = usePostgresNodes([
    { id: 'node-a', line: LINE_A },
    { id: 'node-b', line: LINE_B },
  ]);
  let a: TestNode;
  let b: TestNode;
  beforeAll(() => {
    [a, b] = [cluster.node('node-a'), cluster.node('node-b')];
  });

  it('serves an MMS picture received on node B from node A, same bytes and headers; a purge removes it for both', async () => {
    expect([a.mms.media.kind, b.mms.media.kind]).toEqual(['database', 'database']);
    const picture = Buffer.from(await noisePng(32, 32, 7));
    b.mms.mmsc!.subscriberSend(SUBSCRIBER, LINE_B.number, 'a picture for the cluster', [{ contentType: 'image/png', name: 'cluster.png', data: picture }]);
    const row = await until(async () => a.core.store.db.selectFrom('media').select(['id', 'message_id']).executeTakeFirst(), 20_000);
    const fetched = await Promise.all([a, b].map(async (gw) => {
      const res = await fetch(`${gw.url}/media/${row.id}`);
      return { status: res.status, headers: Object.fromEntries(SERVED_HEADERS.map((h) => [h, res.headers.get(h)])), body: Buffer.from(await res.arrayBuffer()) };
    }));
    const [fromA, fromB] = fetched;
    expect(fromA!.status).toBe(200);
    expect(fromA!.body.equals(picture)).toBe(true);
    expect(fromA!.headers).toMatchObject({ 'content-type': 'image/png', 'content-disposition': 'inline; filename="cluster.png"', 'content-length': String(picture.length), 'x-content-type-options': 'nosniff' });
    expect(fromA!.headers['content-security-policy']).toMatch(/(^|; )sandbox(;|$)/);
    expect(fromA).toEqual(fromB);
    // The bytes are in the database, in neither node's data dir.
    expect([...mediaFiles(cluster.dataDir('node-a')), ...mediaFiles(cluster.dataDir('node-b'))]).toEqual([]);

    const counts = await purgeStored(a.core.store, join(cluster.dataDir('node-a'), 'media'), { messagesBeforeMs: Date.now() + 60_000 });
    expect(counts.media).toBe(1);
    expect(await a.core.store.db.selectFrom('media_blobs').select('media_id').execute()).toEqual([]);
    for (const gw of [a, b]) expect((await fetch(`${gw.url}/media/${row.id}`)).status).toBe(404);
  });
});
