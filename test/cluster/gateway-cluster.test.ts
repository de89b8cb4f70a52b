import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeasesRepository, type ClusterTables } from '../../src/cluster/index.ts';
import { validateConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors/index.ts';
import { DATABASE_FILE, sqliteSqlStore } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';

// The gateway on its embedded SQLite store is a cluster of one node: it registers itself, leases
// its virtual lines, shows that in /healthz, labels /metrics with its id, and lets go at stop.
describe('the gateway as a cluster node (SQLite)', () => {
  const tempDir = useTempDir('agentphone-cluster-gw-');

  it('registers, leases its lines, reports them in /healthz and /metrics, and releases them at stop', async () => {
    const dir = tempDir();
    const gw = await startTestGateway(dir, { cluster: { nodeId: 'node-test', heartbeatMs: 100, leaseMs: 1000 } });
    let stopped = false;
    try {
      const lines = gw.pool.lines().map((l) => l.id).sort();
      expect(lines.length).toBeGreaterThan(0);
      const health = (await (await fetch(`${gw.url}/healthz`)).json()) as { status: string; cluster: Record<string, unknown> };
      expect(health.status).toBe('ok');
      expect(health.cluster).toMatchObject({ node: 'node-test', store: 'sqlite', connected: true, leasedElsewhere: [] });
      expect(health.cluster.nodes).toEqual([expect.objectContaining({ id: 'node-test', alive: true, lines })]);

      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^agentphone_cluster_lines_leased\\{node="node-test"\\} ${lines.length}$`, 'm'));
      expect(metrics).toMatch(/^agentphone_cluster_nodes_alive\{node="node-test"\} 1$/m);
      // Every series carries the node, the process's own included.
      expect(metrics).toMatch(/^agentphone_process_cpu_user_seconds_total\{node="node-test"\} /m);
      expect(metrics.split('\n').filter((l) => l.startsWith('agentphone_') && !l.includes('node="node-test"'))).toEqual([]);

      await gw.stop();
      stopped = true;
      const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) AS n FROM cluster_nodes').get()).toEqual({ n: 0 });
        const leases = db.prepare('SELECT line_id, lease_until FROM line_leases ORDER BY line_id').all() as { line_id: string; lease_until: number }[];
        expect(leases.map((l) => l.line_id)).toEqual(lines);
        expect(leases.every((l) => l.lease_until === 0)).toBe(true);
      } finally {
        db.close();
      }
    } finally {
      if (!stopped) await gw.stop();
    }
  });

  it('sends on a line only while it holds the line\'s lease: a message for a line another node holds waits, and goes once the lease is back', async () => {
    const gw = await startTestGateway(tempDir(), { cluster: { nodeId: 'node-x', heartbeatMs: 100, leaseMs: 300 } });
    try {
      // A second node (here: its repository on the same store) takes virtual-2 from node-x.
      const other = new LeasesRepository(sqliteSqlStore<ClusterTables>(gw.core.db));
      await other.registerNode({ id: 'node-y', host: 'host-y', pid: 2, version: 'test' }, 60_000);
      await until(async () => {
        await other.release('virtual-2', 'node-x');
        return (await other.acquireLine('virtual-2', 'node-y', 60_000)).held;
      }, 5_000, 'node-y holds virtual-2');
      await until(() => gw.membership.view().leasedElsewhere.some((l) => l.line === 'virtual-2' && l.node === 'node-y'), 5_000, 'node-x sees virtual-2 on node-y');
      expect(gw.membership.holds('virtual-2')).toBe(false);

      const send = async (numberId: string, body: string) => {
        const res = await gw.api(`/api/numbers/${numberId}/send/sms`, { method: 'POST', body: JSON.stringify({ to: '+15557770001', body }) });
        expect(res.status).toBe(200);
        return ((await res.json()) as { messageId: string }).messageId;
      };
      const waiting = await send(gw.numberB, 'for the line node-y holds');
      const going = await send(gw.numberA, 'for the line node-x holds');
      await until(async () => ['sent', 'delivered'].includes((await gw.core.messages.get(going))?.status ?? ''), 10_000, 'virtual-1 sends');
      // Virtual lines send in milliseconds: had node-x used virtual-2, this one would be out too.
      await new Promise((r) => setTimeout(r, 300));
      expect((await gw.core.messages.get(waiting))?.status).toBe('queued');

      // node-y lets go: node-x takes the line back at its next beat and sends what waited.
      await other.removeNode('node-y');
      await until(async () => ['sent', 'delivered'].includes((await gw.core.messages.get(waiting))?.status ?? ''), 10_000, 'virtual-2 sends once node-x holds it again');
      expect(gw.membership.holds('virtual-2')).toBe(true);
    } finally {
      await gw.stop();
    }
  });

  it('refuses a lease shorter than three heartbeats, and a node id that is not a plain name', () => {
    expect(() => validateConfig({ cluster: { heartbeatMs: 2000, leaseMs: 5000 } })).toThrow(ConfigError);
    expect(() => validateConfig({ cluster: { heartbeatMs: 2000, leaseMs: 5000 } })).toThrow(/cluster\.leaseMs: must be at least 3 × cluster\.heartbeatMs \(6000\)/);
    expect(() => validateConfig({ cluster: { nodeId: 'node a/../b' } })).toThrow(/cluster\.nodeId/);
    expect(validateConfig({}).cluster).toEqual({ nodeId: null, heartbeatMs: 2000, leaseMs: 10_000 });
  });
});
