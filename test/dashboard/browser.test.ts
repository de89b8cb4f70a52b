import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { CHROMIUM, useChromium } from './chromium.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** A 1×1 PNG, for the simulator's MMS. */
const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

// What the page-side callbacks use (this file is type-checked without the DOM library).
interface BrowserGlobals {
  navigator: { clipboard: { readText(): Promise<string> } };
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

describeWithTool('dashboard in headless Chromium (real gateway, virtual lines, loopback webhook receiver)', hasCommand(CHROMIUM), 'the Debian package chromium', () => {
  const tempDir = useTempDir();
  const browser = useChromium();
  let context: BrowserContext;
  let page: Page;
  beforeAll(() => {
    context = browser.context();
    page = browser.page();
  });
  const shot = browser.shot;

  it('logs in, creates and revokes a key, sets a webhook and tests it, texts a line from the simulator, shows messages and usage', async () => {
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    receiver.answer = (hook) =>
      hook.json.event === 'message.inbound'
        ? { status: 200, body: { action: 'respond', reply: `Agent here, you said: ${String(hook.json.body)}` } }
        : { status: 200, body: { ok: true, event: hook.json.event } };
    const gw = await startTestGateway(tempDir(), { dashboard: { liveIntervalMs: 200 } });
    try {
      // Log in: a wrong token is refused with the API's message, the right one opens the overview.
      await page.goto(gw.url);
      await page.getByLabel('Admin token').fill('not-the-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('Invalid admin token');
      await shot('01-login');
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const row = page.locator('tr[data-line="virtual-1"]');
      await row.getByText('ready').waitFor();
      expect(await row.locator('td[data-label="Number"]').textContent()).toBe('+15550000001');
      expect(await row.getByRole('img').getAttribute('aria-label')).toMatch(/^Signal \d of 4 bars \(-\d+ dBm\)$/);
      // The line's event log opens under its last error.
      await row.getByText('History').click();
      await row.getByText('state: ready (was initializing)').waitFor();
      await page.getByText('Live', { exact: true }).waitFor();
      const cookies = await context.cookies(gw.url);
      expect(cookies.find((c) => c.name === 'agentphone_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      await shot('02-overview');

      // Create a key: shown once, and it works against the API.
      await page.getByRole('link', { name: 'API keys' }).click();
      await page.getByLabel('Name').fill('browser-agent');
      await page.getByRole('button', { name: 'Create key' }).click();
      const keyBox = page.getByLabel('New API key');
      await keyBox.waitFor();
      const key = await keyBox.inputValue();
      expect(key).toMatch(/^agp_[0-9A-Za-z]{40,}$/);
      await page.getByRole('button', { name: 'Copy' }).click();
      await page.getByText('Copied to the clipboard').waitFor();
      expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).navigator.clipboard.readText())).toBe(key);
      await shot('03-key-created');
      const withKey = () => fetch(`${gw.url}/api/numbers`, { headers: { authorization: `Bearer ${key}` } });
      const listed = await withKey();
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { numbers: unknown[] }).numbers).toHaveLength(2);

      // Set the webhook of the first line's number and send a test event to the loopback receiver.
      await page.getByRole('link', { name: 'Numbers' }).click();
      await page.getByRole('link', { name: /\+15550000001/ }).click();
      await page.getByLabel('Webhook URL').fill(hookUrl);
      await page.getByLabel('Timeout (ms)').fill('5000');
      await page.getByRole('button', { name: 'Save webhook' }).click();
      await page.getByText('Saved', { exact: true }).waitFor();
      expect(gw.core.numbers.get(gw.numberA)).toMatchObject({ webhookUrl: hookUrl, webhookTimeoutMs: 5000 });
      await page.getByRole('button', { name: 'Send test event' }).click();
      const result = page.getByRole('status', { name: 'Test event result' });
      await result.getByText('HTTP 200').waitFor();
      expect(await result.getByLabel('Response body').textContent()).toBe('{"ok":true,"event":"webhook.test"}');
      expect(receiver.events('webhook.test')).toHaveLength(1);
      await page.getByRole('button', { name: 'Reveal' }).click();
      await expect.poll(() => page.getByTestId('webhook-secret').textContent()).toBe(gw.core.numbers.get(gw.numberA).webhookSecret);
      await shot('04-numbers');

      // Text the line from the simulator: the inbound message and the agent's inline reply appear live.
      await page.getByRole('link', { name: 'Simulator' }).click();
      await page.getByLabel('Texting line').selectOption('+15550000001');
      await page.getByLabel('Message', { exact: true }).fill('Hello from the browser');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.locator('li[data-from="me"]').getByText('Hello from the browser').waitFor();
      await page.locator('li[data-from="agent"]').getByText('Agent here, you said: Hello from the browser').waitFor({ timeout: 15_000 });
      await shot('05-simulator');

      await page.getByRole('link', { name: 'Messages' }).click();
      const thread = page.getByRole('region', { name: 'Conversation with +15557654321' });
      await thread.getByText('Hello from the browser', { exact: true }).waitFor();
      await thread.getByText('Agent here, you said: Hello from the browser').waitFor();
      // The reply's ticks reach "Delivered" once the status report is in.
      await thread.getByRole('img', { name: 'Delivered' }).waitFor({ timeout: 15_000 });
      await shot('06-messages');
      await page.getByRole('button', { name: 'Table' }).click();
      await page.getByLabel('Direction').selectOption('inbound');
      await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
      await page.getByRole('cell', { name: 'Hello from the browser', exact: true }).waitFor();
      await page.locator('tbody tr a').first().click();
      await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
      await page.getByRole('cell', { name: 'message.inbound' }).waitFor();
      await shot('07-message-detail');


      // Revoke the key (with confirmation): the API refuses it from the next request.
      await page.getByRole('link', { name: 'API keys' }).click();
      await page.getByRole('button', { name: 'Revoke key browser-agent' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
      await page.locator('tr', { hasText: 'browser-agent' }).getByText('revoked').waitFor();
      const refused = await withKey();
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ error: 'Unauthorized', message: 'Invalid or missing API key' });
      await shot('08-keys');

      // Usage: a chart per number, drawn (not a blank canvas), with the month's figures.
      await page.getByRole('link', { name: 'Usage' }).click();
      const usage = page.getByRole('region', { name: '+15550000001' });
      await usage.getByText('2 of 2000 (1 sent, 1 received)').waitFor();
      const inked = (name: RegExp) =>
        usage.getByRole('img', { name }).evaluate((c) => {
          const el = c as unknown as CanvasLike;
          const data = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) n++;
          return n;
        });
      await usage.getByRole('img', { name: /SMS segments per day for \+15550000001/ }).waitFor();
      expect(await inked(/SMS segments per day for \+15550000001/)).toBeGreaterThan(1000);
      expect(await inked(/Voice minutes per day for \+15550000001: 0 of 300 included/)).toBeGreaterThan(1000);
      expect(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toMatch(/^\/admin\/usage\/export\.csv\?month=\d{4}-\d{2}$/);
      await shot('09-usage');

      // A picture from the simulator goes as an MMS through the virtual MMSC to the line.
      await page.getByRole('link', { name: 'Simulator' }).click();
      await page.getByLabel('Texting line').selectOption('+15550000001');
      await page.getByLabel('Attach a picture or file (sends an MMS)').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG_1X1 });
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.locator('li[data-from="me"]').getByText('📎 dot.png').waitFor();
      await expect
        .poll(async () => (await gw.core.messages.list(gw.numberA, { direction: 'inbound', limit: 10 })).filter((m) => m.channel === 'mms').length, { timeout: 15_000 })
        .toBe(1);

      // A phone-sized screen: the menu folds away and tables become stacked cards.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByRole('link', { name: 'Overview' }).click();
      await page.locator('tr[data-line="virtual-2"]').getByText('ready').waitFor();
      await shot('10-overview-phone');
      await page.setViewportSize({ width: 1280, height: 860 });

      // Log out: the session is gone for the admin API too.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('Admin token').waitFor();
      const after = await page.evaluate(async () => (await fetch('/admin/keys')).status);
      expect(after).toBe(401);
    } finally {
      await gw.stop();
      await receiver.stop();
    }
  }, 120_000);
});
