import { expect, it } from 'vitest';
import { LeasesRepository, type ClusterTables } from '../../src/cluster/index.ts';
import { sqliteSqlStore } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { until } from '../helpers/wait.ts';
import { CHROMIUM, useChromium } from './chromium.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const LEASE_MS = 400;

describeWithTool('dashboard Nodes panel in headless Chromium (real gateway, a second node on its SQLite store)', hasCommand(CHROMIUM), 'the Debian package chromium', () => {
  const tempDir = useTempDir();
  const browser = useChromium();

  it('shows each node with its lines, flags a line another node holds, and shows that node dead without a reload', async () => {
    const page = browser.page();
    const gw = await startTestGateway(tempDir(), { dashboard: { liveIntervalMs: 100 }, cluster: { nodeId: 'node-x', heartbeatMs: 100, leaseMs: LEASE_MS } });
    // node-y: a second node, driven here through the same repository a gateway uses, on the same store.
    const repo = new LeasesRepository(sqliteSqlStore<ClusterTables>(gw.core.db));
    let beat: NodeJS.Timeout | undefined;
    try {
      await page.goto(gw.url);
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Nodes' }).waitFor();
      const nodeX = page.locator('tr[data-node="node-x"]');
      await nodeX.getByText('alive', { exact: true }).waitFor();
      expect(await nodeX.locator('th').textContent()).toBe('node-x (this node)');
      await expect.poll(() => nodeX.locator('li[data-node-line]').allTextContents(), { timeout: 10_000 }).toEqual(['virtual-1', 'virtual-2']);
      await browser.shot('cluster-01-one-node');

      // node-y registers and takes virtual-2 (as it would once node-x's lease lapsed); it beats and renews.
      await repo.registerNode({ id: 'node-y', host: 'host-y', pid: 1, version: 'test' }, LEASE_MS);
      await until(async () => {
        await repo.release('virtual-2', 'node-x');
        return (await repo.acquireLine('virtual-2', 'node-y', LEASE_MS)).held;
      }, 10_000, 'node-y holds virtual-2');
      beat = setInterval(() => void repo.heartbeat('node-y').then(() => repo.renewAll('node-y', LEASE_MS)), 50);
      const nodeY = page.locator('tr[data-node="node-y"]');
      await nodeY.getByText('alive', { exact: true }).waitFor();
      expect(await nodeY.locator('td[data-label="Host"]').textContent()).toBe('host-y');
      await nodeY.locator('li[data-node-line="virtual-2"]').getByText('also on this node, standing by').waitFor();
      await page.locator('tr[data-line="virtual-2"]').getByText('held by node-y').waitFor();
      await page.getByRole('note').getByText(/virtual-2 \(held by node-y\)/).waitFor();
      await expect.poll(() => nodeX.locator('li[data-node-line]').allTextContents(), { timeout: 10_000 }).toEqual(['virtual-1']);
      await browser.shot('cluster-02-line-held-elsewhere');

      // node-y goes silent: the open page shows it dead, and node-x takes virtual-2 back.
      clearInterval(beat);
      beat = undefined;
      await nodeY.getByText('dead', { exact: true }).waitFor();
      await expect.poll(() => nodeX.locator('li[data-node-line]').allTextContents(), { timeout: 10_000 }).toEqual(['virtual-1', 'virtual-2']);
      expect(await page.locator('tr[data-line="virtual-2"]').getByText('held by node-y').count()).toBe(0);
      await browser.shot('cluster-03-node-dead');
    } finally {
      clearInterval(beat);
      await gw.stop();
    }
  }, 60_000);
});
