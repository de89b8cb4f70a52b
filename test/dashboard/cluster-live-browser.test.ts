/**
 * The dashboard in headless Chromium on node B of two gateway nodes sharing one real PostgreSQL:
 * its Messages table shows, without a reload, a message sent through node A's API and its
 * status as node A's line sends it; and when node B's bus connection is lost, the page reads
 * again on the stream's 'resync' event, so a message whose notification never came shows too.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { MessagesRepository } from '../../src/store/index.ts';
import { postgresUnavailable } from '../helpers/postgres.ts';
import { usePostgresNodes, type TestNode } from '../helpers/postgres-nodes.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { CHROMIUM, useChromium } from './chromium.ts';

type Node = TestNode;

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const LINE_A = { id: 'line-a', number: '+15550000041', dialect: 'quectel' };
const LINE_B = { id: 'line-b', number: '+15550000042', dialect: 'simcom' };
const needPg = postgresUnavailable();
const ready = needPg === undefined && hasCommand(CHROMIUM);

describeWithTool('dashboard Messages on node B, live from node A (headless Chromium, real PostgreSQL)', ready, needPg ?? 'the Debian package chromium', () => {
  const cluster = usePostgresNodes(
    [
      { id: 'node-a', line: LINE_A },
      { id: 'node-b', line: LINE_B },
    ],
    { dashboard: { liveIntervalMs: 100 } },
  );
  const browser = useChromium();
  let a: Node;
  let b: Node;
  beforeAll(() => {
    [a, b] = [cluster.node('node-a'), cluster.node('node-b')];
  });

  it("shows node A's message and its status without a reload, and what it missed after a resync", async () => {
    const page = browser.page();
    await page.goto(b.url);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${b.url}/#/messages`);
    await page.getByRole('button', { name: 'Table' }).click();
    await page.getByRole('region', { name: 'All messages' }).waitFor();

    const fromA = (await a.core.numbers.list()).find((n) => n.phoneNumber === LINE_A.number)!.id;
    const res = await a.api(`/api/numbers/${fromA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: '+15557770041', body: 'sent through node a' }) });
    expect(res.status).toBe(200);
    const row = page.locator('tr', { has: page.getByText('sent through node a') });
    await row.waitFor();
    await expect.poll(() => row.locator('td[data-label="Status"]').textContent(), { timeout: 15_000 }).toMatch(/^(sent|delivered)$/);
    await browser.shot('cluster-live-01-message-from-node-a');

    // A message stored by node A whose notification never reaches node B (a repository with a
    // change feed of its own publishes nothing), then node B's bus connection drops.
    await new MessagesRepository(a.core.store.db).insert({
      id: `msg_${randomUUID()}`,
      numberId: fromA,
      direction: 'outbound',
      channel: 'sms',
      contact: '+15557770042',
      body: 'missed while the bus was down',
      media: [],
      status: 'queued',
      encoding: 'gsm7',
      segments: 1,
      createdAt: new Date().toISOString(),
    });
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', ['agentphone node-b/listen']);
    } finally {
      await admin.end();
    }
    await page.locator('tr', { has: page.getByText('missed while the bus was down') }).waitFor({ timeout: 15_000 });
    await browser.shot('cluster-live-02-after-resync');
  });
});
