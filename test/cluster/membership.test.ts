import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ClusterMembership, FORGET_DEAD_NODE_MS, LeasesRepository, type ClusterNodeOptions } from '../../src/cluster/index.ts';
import { monotonicClock } from '../../src/clock/index.ts';
import { StoreError } from '../../src/errors/index.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { until } from '../helpers/wait.ts';
import { DIALECTS, type Pair } from './dialects.ts';

const logger = pino({ level: 'silent' });

/** Real timers, short: each beat is 50 ms and a lease lapses after 200 ms of silence. */
function options(pair: Pair, side: 0 | 1, id: string, lines: string[], metrics?: Registry): ClusterNodeOptions {
  const store = pair.stores[side];
  return {
    repo: new LeasesRepository(store),
    dialect: store.dialect,
    node: { id, host: `host-${id}`, pid: 1000 + side, version: 'test' },
    heartbeatMs: 50,
    leaseMs: 200,
    lines: () => lines,
    clock: monotonicClock,
    logger,
    ...(metrics && { metrics }),
  };
}

describe.each(DIALECTS)('cluster membership on $name', (dialect) => {
  describeWithTool(`${dialect.name} membership`, dialect.need === undefined, dialect.need ?? '', () => {
    beforeAll(() => dialect.setup(), 60_000);
    afterAll(() => dialect.teardown());

    let pair: Pair;
    const running: ClusterMembership[] = [];
    beforeEach(async () => {
      pair = await dialect.open();
    });
    afterEach(async () => {
      for (const m of running.splice(0)) await m.stop();
      await pair.close();
    });
    const start = async (o: ClusterNodeOptions) => {
      const m = await ClusterMembership.start(o);
      running.push(m);
      return m;
    };

    it('leases each line to one node; the other sees who holds it; a stop hands it over at once', async () => {
      const metrics = new Registry();
      const a = await start(options(pair, 0, 'node-a', ['l1', 'l2'], metrics));
      const b = await start(options(pair, 1, 'node-b', ['l2', 'l3']));
      expect(a.holds('l1') && a.holds('l2')).toBe(true);
      expect(b.holds('l3')).toBe(true);
      expect(b.holds('l2')).toBe(false);
      expect(b.view().leasedElsewhere).toEqual([{ line: 'l2', node: 'node-a' }]);
      await until(() => a.view().nodes.length === 2, 5_000, 'node-a sees node-b');
      const seen = Object.fromEntries(a.view().nodes.map((n) => [n.id, n]));
      expect(seen['node-a']).toMatchObject({ alive: true, lines: ['l1', 'l2'], host: 'host-node-a' });
      expect(seen['node-b']).toMatchObject({ alive: true, lines: ['l3'] });
      expect(a.view()).toMatchObject({ node: 'node-a', store: dialect.name === 'SQLite' ? 'sqlite' : 'postgres', connected: true });
      expect(await metrics.metrics()).toMatch(/^agentphone_cluster_lines_leased 2$/m);

      await a.stop();
      running.splice(running.indexOf(a), 1);
      await until(() => b.holds('l2'), 5_000, 'node-b takes l2 after node-a stopped');
      // holds() changes mid-beat, the view at the beat's end: wait for the view of that same beat.
      await until(() => b.view().leasedElsewhere.length === 0, 5_000, "node-b's view after it took l2");
      expect(b.view().leasedElsewhere).toEqual([]);
      expect(b.view().nodes.map((n) => n.id)).toEqual(['node-b']);
    });

    it('a node whose store went away loses its lines when the leases lapse, and another node takes them', async () => {
      const a = await start(options(pair, 0, 'node-a', ['l1']));
      const b = await start(options(pair, 1, 'node-b', ['l1']));
      expect(a.holds('l1')).toBe(true);
      expect(b.holds('l1')).toBe(false);
      // node-a's connection to the store dies (as its process would): it beats no more.
      await pair.stores[0].close();
      if (dialect.name === 'SQLite') pair.handles?.[0]?.close();
      await until(() => !a.view().connected, 5_000, 'node-a notices it cannot beat');
      await until(() => b.holds('l1'), 5_000, 'node-b takes l1 once node-a\'s lease lapsed');
      await until(() => b.view().nodes.find((n) => n.id === 'node-a')?.alive === false || !b.view().nodes.some((n) => n.id === 'node-a'), 5_000, 'node-a shown dead');
      running.splice(running.indexOf(a), 1);
      a.stop().catch(() => undefined);
    });

    it('drops a node silent for longer than a day from the list (a container gets a new host name each start)', async () => {
      const repo = new LeasesRepository(pair.stores[1]);
      for (const id of ['ghost', 'recent']) await repo.registerNode({ id, host: `host-${id}`, pid: 9, version: 'old' }, 200);
      const db = pair.stores[1].db;
      const now = Date.now();
      await db.updateTable('cluster_nodes').set({ heartbeat_at: now - FORGET_DEAD_NODE_MS - 60_000 }).where('id', '=', 'ghost').execute();
      await db.updateTable('cluster_nodes').set({ heartbeat_at: now - 60_000 }).where('id', '=', 'recent').execute();
      const a = await start(options(pair, 0, 'node-a', ['l1']));
      expect(a.view().nodes.map((n) => [n.id, n.alive])).toEqual([['node-a', true], ['recent', false]]);
      expect((await repo.listNodes(200)).map((n) => n.id).sort()).toEqual(['node-a', 'recent']);
    });

    it('refuses a node id a live node on another host already has', async () => {
      await start(options(pair, 0, 'same', []));
      const other = options(pair, 1, 'same', []);
      await expect(ClusterMembership.start({ ...other, node: { ...other.node, host: 'elsewhere' } })).rejects.toBeInstanceOf(StoreError);
    });
  });
});
