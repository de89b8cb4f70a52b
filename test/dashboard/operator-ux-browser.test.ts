import { expect, it } from 'vitest';
import { MediaServer, noisePng, smallJpeg } from '../mms/media-server.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { CHROMIUM, useChromium } from './chromium.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const SUBSCRIBER = '+15557654321';
const LINE_A = '+15550000001';
/** What the page-side callbacks see (this file is type-checked without the DOM library). */
interface ImageLike {
  complete: boolean;
  naturalWidth: number;
}

describeWithTool('dashboard operator views in headless Chromium (real gateway, virtual lines and MMSC, loopback media and webhooks)', hasCommand(CHROMIUM), 'the Debian package chromium', () => {
  const tempDir = useTempDir();
  const browser = useChromium();

  it('shows channel and failure reason, stored media only (a placeholder with the reason otherwise), Redeliver only where it helps, and a roomy simulator composer', async () => {
    const page = browser.page();
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    receiver.answer = (hook) => (hook.json.body === 'make it fail' ? { status: 500 } : { status: 200, body: { action: 'ignore' } });
    const media = new MediaServer();
    await media.start();
    const gw = await startTestGateway(tempDir(), { dashboard: { liveIntervalMs: 200 }, media: { allowPrivateHosts: ['127.0.0.1'] } });
    try {
      await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
      const send = async (body: unknown) =>
        ((await (await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify(body) })).json()) as { messageId: string }).messageId;
      // An MMS whose part MMS cannot carry fails with a reason; a picture reaches the phone.
      const htmlUrl = media.add('/page.html', 'text/html', new TextEncoder().encode('<html></html>'));
      const failedId = await send({ to: SUBSCRIBER, body: 'broken one', media: [htmlUrl] });
      await send({ to: SUBSCRIBER, body: 'a photo', media: [media.add('/photo.jpg', 'image/jpeg', await smallJpeg())] });
      gw.mms.mmsc!.subscriberSend(SUBSCRIBER, LINE_A, 'my picture', [{ contentType: 'image/png', name: 'noise.png', data: await noisePng(40, 30) }]);
      gw.network!.text(SUBSCRIBER, LINE_A, 'make it fail');
      await until(async () => (await gw.core.messages.get(failedId))?.status === 'failed', 20_000, 'the failed MMS');
      await until(() => gw.mms.mmsc!.entries(SUBSCRIBER).length === 1, 20_000, "the agent's picture at the phone");
      await until(async () => (await gw.core.outbox.listForNumber(gw.numberA, 'dead', 10)).length === 1, 20_000, 'a dead delivery');
      await until(async () => (await gw.core.outbox.listForNumber(gw.numberA, 'delivered', 10)).length >= 1, 20_000, 'a delivered delivery');
      const reason = (await gw.core.messages.get(failedId))!.errorMessage as string;
      expect(reason).toBeTruthy();

      await page.goto(gw.url);
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();

      // The conversation: the failed MMS is a placeholder with the reason, never a request to the agent's URL.
      await page.getByRole('link', { name: 'Messages' }).click();
      const thread = page.getByRole('region', { name: `Conversation with ${SUBSCRIBER}` });
      const failed = thread.locator('li.bubble', { hasText: 'broken one' });
      await failed.locator('.media-missing').getByText(`not sent: ${reason}`).waitFor();
      expect(await failed.locator('img').count()).toBe(0);
      expect(await thread.locator(`img[src^="${media.base}"]`).count()).toBe(0);
      // The sent photo is not stored either: a placeholder that says so.
      await thread.locator('li.bubble', { hasText: 'a photo' }).getByText("sent from the agent's URL; the gateway keeps no copy").waitFor();
      // The received picture is stored: shown from this origin, and it loads.
      const received = thread.locator('li.bubble', { hasText: 'my picture' }).locator('img');
      expect(await received.getAttribute('src')).toMatch(/^\/media\/[0-9A-Za-z]+$/);
      await expect.poll(() => received.evaluate((img) => (img as unknown as ImageLike).complete && (img as unknown as ImageLike).naturalWidth), { timeout: 10_000 }).toBe(40);
      await browser.shot('11-conversation-media');

      // The table: channel and failure reason columns.
      await page.getByRole('button', { name: 'Table' }).click();
      await page.getByRole('columnheader', { name: 'Channel' }).waitFor();
      await page.getByRole('columnheader', { name: 'Failure reason' }).waitFor();
      const failedRow = page.locator('tbody tr', { hasText: 'broken one' });
      expect(await failedRow.locator('td[data-label="Channel"]').textContent()).toBe('MMS');
      expect(await failedRow.locator('td[data-label="Failure reason"]').textContent()).toBe(reason);
      expect(await page.locator('tbody tr', { hasText: 'make it fail' }).locator('td[data-label="Channel"]').textContent()).toBe('SMS');
      await browser.shot('12-messages-table');

      // Deliveries: Redeliver on the dead one only, never on a delivered one.
      await page.getByRole('link', { name: 'Numbers' }).click();
      await page.getByRole('link', { name: /\+15550000001/ }).click();
      const recent = page.getByRole('region', { name: 'Recent deliveries' });
      await recent.locator('tbody tr').first().waitFor();
      const rows = await recent.locator('tbody tr').all();
      let dead = 0;
      for (const row of rows) {
        const status = await row.locator('td[data-label="Status"]').textContent();
        const buttons = await row.getByRole('button', { name: /^Redeliver/ }).count();
        expect(buttons, `a ${status} delivery`).toBe(status === 'dead' ? 1 : 0);
        if (status === 'dead') dead++;
      }
      expect(dead).toBe(1);
      expect(rows.length).toBeGreaterThan(1);

      // The simulator: the text box has room, the attach control is inside the phone, the agent's picture shows.
      await page.getByRole('link', { name: 'Simulator' }).click();
      await page.getByLabel('Texting line').selectOption(LINE_A);
      const picture = page.locator('li[data-from="agent"] img');
      await picture.waitFor();
      expect(await picture.getAttribute('src')).toMatch(/^\/admin\/sim\/media\/[0-9A-Za-z]+$/);
      await expect.poll(() => picture.evaluate((img) => (img as unknown as ImageLike).complete && (img as unknown as ImageLike).naturalWidth), { timeout: 10_000 }).toBe(64);
      const phone = (await page.getByRole('region', { name: 'Simulated phone' }).boundingBox())!;
      const textBox = (await page.getByLabel('Message', { exact: true }).boundingBox())!;
      const attach = (await page.locator('label.attach').boundingBox())!;
      const sendButton = (await page.getByRole('button', { name: 'Send', exact: true }).boundingBox())!;
      expect(textBox.width).toBeGreaterThan(300);
      for (const box of [attach, sendButton]) {
        expect(box.x).toBeGreaterThanOrEqual(phone.x);
        expect(box.x + box.width).toBeLessThanOrEqual(phone.x + phone.width);
      }
      await page.getByLabel('Attach a picture or file (sends an MMS)').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: Buffer.from(await smallJpeg()) });
      await page.getByText(/^dot\.png \(\d+(\.\d)? (B|KiB)\)$/).waitFor();
      await browser.shot('13-simulator-composer');
    } finally {
      await gw.stop();
      await receiver.stop();
      await media.stop();
    }
  }, 120_000);
});
