import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const SUBSCRIBER = '+15557770001';
const LINE_A = '+15550000001';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * What an attacker's attachment does when it runs in the dashboard's origin: reads the
 * session's CSRF token and creates an API key; it also calls home so a run is seen even
 * where the key request fails.
 */
const attack = (beacon: string, tag: string) => `
(async () => {
  new Image().src = '${beacon}/ran?tag=${tag}';
  const s = await (await fetch('/auth/session')).json();
  await fetch('/admin/keys', { method: 'POST', headers: { 'content-type': 'application/json', [s.csrfHeader]: s.csrfToken }, body: '{"name":"pwned-${tag}"}' });
})();`;

const payloads = (beacon: string): { type: string; name: string; body: string }[] => [
  { type: 'text/html', name: 'invoice.html', body: `<!doctype html><html><body><h1>hi</h1><script>${attack(beacon, 'html')}</script></body></html>` },
  {
    type: 'image/svg+xml',
    name: 'photo.svg',
    body: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script><![CDATA[${attack(beacon, 'svg')}]]></script></svg>`,
  },
  {
    type: 'application/xhtml+xml',
    name: 'page.xhtml',
    body: `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><script><![CDATA[${attack(beacon, 'xhtml')}]]></script></body></html>`,
  },
];

describeWithTool('received MMS attachments opened from the dashboard in headless Chromium', hasCommand(CHROMIUM), 'the Debian package chromium', () => {
  const tempDir = useTempDir();
  let context: BrowserContext;
  let profile: string;
  let beacon: Server;
  let beaconUrl: string;
  const hits: string[] = [];

  beforeAll(async () => {
    // Calls home from any script that runs; /control serves the same script as a page, to prove a run is seen.
    beacon = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/control') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><script>${attack(beaconUrl, 'control')}</script>`);
        return;
      }
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => beacon.listen(0, '127.0.0.1', resolve));
    beaconUrl = `http://127.0.0.1:${(beacon.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'agentphone-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, acceptDownloads: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await new Promise<void>((resolve) => (beacon ? beacon.close(() => resolve()) : resolve()));
  });

  it('downloads html, svg and xhtml attachments instead of running them: no script runs, no key is created', async () => {
    const gw = await startTestGateway(tempDir());
    try {
      const files = payloads(beaconUrl);
      gw.mms.mmsc!.subscriberSend(SUBSCRIBER, LINE_A, 'see attached', files.map((f) => ({ contentType: f.type, name: f.name, data: Buffer.from(f.body) })));
      const urls = await until(async () => {
        const res = await gw.api(`/api/numbers/${gw.numberA}/messages?direction=inbound`);
        const media = ((await res.json()) as { messages: { media: string[] }[] }).messages[0]?.media;
        return media && media.length === files.length ? media : undefined;
      }, 30_000, 'the inbound MMS');
      const keysBefore = (await gw.core.apiKeys.list()).length;

      // The operator is logged in to the dashboard in this browser.
      const page: Page = context.pages()[0] ?? (await context.newPage());
      await page.goto(gw.url);
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();

      for (const [i, url] of urls.entries()) {
        // Opened from the dashboard page itself (same origin, same session): where a page would run, a download starts.
        const downloaded = page.waitForEvent('download');
        await page.evaluate((u) => {
          (globalThis as unknown as { location: { href: string } }).location.href = u;
        }, url);
        const download = await downloaded;
        expect(download.suggestedFilename()).toBe(files[i]!.name);
        expect(readFileSync((await download.path())!, 'utf8')).toBe(files[i]!.body);
        expect(page.url().startsWith(`${gw.url}/`) && !page.url().includes("/media/")).toBe(true);
      }

      // The harness does see a script that runs: the same payload as a page of another origin calls home.
      const control = await context.newPage();
      await control.goto(`${beaconUrl}/control`);
      await until(() => hits.some((h) => h.startsWith('/ran?tag=control')), 15_000, 'the control page to call home');
      await control.close();

      expect(hits.filter((h) => h.startsWith('/ran') && !h.includes('control'))).toEqual([]);
      expect((await gw.core.apiKeys.list()).filter((k) => k.name.startsWith('pwned'))).toEqual([]);
      expect(await gw.core.apiKeys.list()).toHaveLength(keysBefore);
    } finally {
      await gw.stop();
    }
  }, 120_000);
});
