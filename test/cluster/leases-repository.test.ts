import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeasesRepository, type ClusterTables } from '../../src/cluster/index.ts';
import { StoreError } from '../../src/errors/index.ts';
import { dbNowMs, openDatabase, sqliteSqlStore } from '../../src/store/index.ts';
import { DIALECTS, type Pair } from './dialects.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { until } from '../helpers/wait.ts';

const LONG_MS = 60_000;

describe.each(DIALECTS)('leases on $name', (dialect) => {
  describeWithTool(`${dialect.name} leases contract`, dialect.need === undefined, dialect.need ?? '', () => {
    beforeAll(() => dialect.setup(), 60_000);
    afterAll(() => dialect.teardown());

    let pair: Pair;
    let a: LeasesRepository;
    let b: LeasesRepository;
    beforeEach(async () => {
      pair = await dialect.open();
      a = new LeasesRepository(pair.stores[0]);
      b = new LeasesRepository(pair.stores[1]);
    });
    afterEach(() => pair.close());

    it("reads the database's clock as whole epoch milliseconds", async () => {
      const store = pair.stores[0];
      const { rows } = await sql<{ now_ms: number }>`select ${dbNowMs(store.dialect)} as now_ms`.execute(store.db);
      const nowMs = rows[0]!.now_ms;
      expect(Number.isSafeInteger(nowMs)).toBe(true);
      expect(nowMs).toBeGreaterThan(Date.UTC(2024, 0, 1));
    });

    it('gives a contested line to exactly one of two nodes racing, 50 rounds, fresh and taken over', async () => {
      for (let round = 0; round < 50; round++) {
        const line = `line-${round}`;
        const takenOver = round % 2 === 1;
        if (takenOver) {
          // A line a third node held and let go: the race is for a take-over, whose epoch is 2.
          await a.acquireLine(line, 'node-c', LONG_MS);
          expect(await a.release(line, 'node-c')).toBe(true);
        }
        const [ra, rb] = await Promise.all([a.acquireLine(line, 'node-a', LONG_MS), b.acquireLine(line, 'node-b', LONG_MS)]);
        expect([ra.held, rb.held].filter(Boolean)).toHaveLength(1);
        const winner = ra.held ? 'node-a' : 'node-b';
        expect(ra.owner).toBe(winner);
        expect(rb.owner).toBe(winner);
        expect(ra.epoch).toBe(takenOver ? 2 : 1);
        expect(rb.epoch).toBe(ra.epoch);
        expect((await b.owner(line))?.nodeId).toBe(winner);
      }
    });

    it('refuses a live lease to another node, hands it over once expired, with a higher epoch', async () => {
      const first = await a.acquireLine('line-1', 'node-a', LONG_MS);
      expect(first).toMatchObject({ held: true, owner: 'node-a', epoch: 1 });
      expect(await b.acquireLine('line-1', 'node-b', LONG_MS)).toMatchObject({ held: false, owner: 'node-a', epoch: 1 });

      // node-a renews with a short lease and then stops renewing: the lease runs out by the DB's clock.
      expect(await a.acquireLine('line-1', 'node-a', 30)).toMatchObject({ held: true, epoch: 1 });
      await until(async () => (await b.owner('line-1')) === undefined, 15_000, 'the lease to expire');

      const taken = await b.acquireLine('line-1', 'node-b', LONG_MS);
      expect(taken).toMatchObject({ held: true, owner: 'node-b', epoch: 2 });
      expect(await a.renewAll('node-a', LONG_MS)).toEqual([]);
      expect(await a.release('line-1', 'node-a')).toBe(false);
      expect(await a.acquireLine('line-1', 'node-a', LONG_MS)).toMatchObject({ held: false, owner: 'node-b', epoch: 2 });
    });

    it('keeps the epoch and extends the lease when the holder renews', async () => {
      const first = await a.acquireLine('line-1', 'node-a', 5_000);
      await a.acquireLine('line-2', 'node-a', 5_000);
      await b.acquireLine('line-3', 'node-b', 5_000);
      expect(await a.renewAll('node-a', LONG_MS)).toEqual(['line-1', 'line-2']);
      const lease = await b.owner('line-1');
      expect(lease).toMatchObject({ nodeId: 'node-a', epoch: 1, acquiredAtMs: first.leaseUntilMs - 5_000 });
      expect(lease!.leaseUntilMs).toBeGreaterThan(first.leaseUntilMs);
      const again = await a.acquireLine('line-1', 'node-a', LONG_MS);
      expect(again).toMatchObject({ held: true, epoch: 1 });
      expect((await a.leasesOf('node-a')).map((l) => l.lineId)).toEqual(['line-1', 'line-2']);
      expect((await a.leasesOf('node-b')).map((l) => l.lineId)).toEqual(['line-3']);
    });

    it('frees a line on release by its holder only; the next holder gets a higher epoch', async () => {
      await a.acquireLine('line-1', 'node-a', LONG_MS);
      expect(await b.release('line-1', 'node-b')).toBe(false);
      expect((await b.owner('line-1'))?.nodeId).toBe('node-a');
      expect(await a.release('line-1', 'node-a')).toBe(true);
      expect(await b.owner('line-1')).toBeUndefined();
      expect(await a.leasesOf('node-a')).toEqual([]);
      expect(await b.acquireLine('line-1', 'node-b', LONG_MS)).toMatchObject({ held: true, owner: 'node-b', epoch: 2 });
      // Even the same node coming back to a line it let go starts a new tenure.
      await b.release('line-1', 'node-b');
      expect(await a.acquireLine('line-1', 'node-b', LONG_MS)).toMatchObject({ held: true, epoch: 3 });
    });

    it('lists nodes alive or dead by their last heartbeat against the DB clock', async () => {
      await a.registerNode({ id: 'node-a', host: 'host-a', pid: 101, version: '1.2.3', info: { api: 'http://10.0.0.1:8080' } }, LONG_MS);
      await b.registerNode({ id: 'node-b', host: 'host-b', pid: 202, version: '1.2.3' }, LONG_MS);
      const nodes = await a.listNodes(LONG_MS);
      expect(nodes.map((n) => [n.id, n.host, n.pid, n.alive])).toEqual([
        ['node-a', 'host-a', 101, true],
        ['node-b', 'host-b', 202, true],
      ]);
      expect(nodes[0]!.info).toEqual({ api: 'http://10.0.0.1:8080' });
      expect(nodes[0]!.startedAtMs).toBe(nodes[0]!.heartbeatAtMs);

      // node-b stopped beating long ago (its row as a node that died would leave it).
      await pair.stores[0].db.updateTable('cluster_nodes').set({ heartbeat_at: 0 }).where('id', '=', 'node-b').execute();
      expect((await b.listNodes(LONG_MS)).map((n) => [n.id, n.alive])).toEqual([
        ['node-a', true],
        ['node-b', false],
      ]);
      expect(await b.heartbeat('node-b')).toBe(true);
      expect((await a.listNodes(LONG_MS)).every((n) => n.alive)).toBe(true);
    });

    it('removes a node and frees its lines; a removed node learns it from its heartbeat', async () => {
      await b.registerNode({ id: 'node-b', host: 'host-b', pid: 202, version: '1' }, LONG_MS);
      await b.acquireLine('line-9', 'node-b', LONG_MS);
      expect(await a.removeNode('node-b')).toBe(true);
      expect(await b.heartbeat('node-b')).toBe(false);
      expect(await a.listNodes(LONG_MS)).toEqual([]);
      expect(await a.owner('line-9')).toBeUndefined();
      expect(await a.acquireLine('line-9', 'node-a', LONG_MS)).toMatchObject({ held: true, epoch: 2 });
    });

    it('refuses a node id held by a live node on another host, takes it over from the same host or a dead one', async () => {
      await a.registerNode({ id: 'node-a', host: 'host-a', pid: 101, version: '1' }, LONG_MS);
      const err = await b.registerNode({ id: 'node-a', host: 'host-z', pid: 7, version: '1' }, LONG_MS).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toMatch(/node-a is in use by a live node/);
      await b.registerNode({ id: 'node-a', host: 'host-a', pid: 102, version: '2' }, LONG_MS);
      expect((await a.listNodes(LONG_MS))[0]).toMatchObject({ pid: 102, version: '2' });
      await pair.stores[0].db.updateTable('cluster_nodes').set({ heartbeat_at: 0 }).execute();
      await b.registerNode({ id: 'node-a', host: 'host-z', pid: 7, version: '2' }, LONG_MS);
      expect((await a.listNodes(LONG_MS))[0]).toMatchObject({ host: 'host-z', alive: true });
    });

    it('rejects a ttl that is not a positive whole number of ms', async () => {
      await expect(a.acquireLine('line-1', 'node-a', 0)).rejects.toThrow(StoreError);
      await expect(a.renewAll('node-a', 1.5)).rejects.toThrow(/positive whole number/);
      await expect(a.listNodes(Number.NaN)).rejects.toThrow(StoreError);
    });
  });
});

describe('sqliteSqlStore', () => {
  it("leaves the gateway's shared handle open when closed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentphone-sqlstore-'));
    const handle = openDatabase(join(dir, 'a.db'));
    try {
      const store = sqliteSqlStore<ClusterTables>(handle);
      await new LeasesRepository(store).acquireLine('line-1', 'node-a', LONG_MS);
      await store.close();
      expect(handle.prepare('SELECT node_id FROM line_leases').get()).toEqual({ node_id: 'node-a' });
    } finally {
      handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
