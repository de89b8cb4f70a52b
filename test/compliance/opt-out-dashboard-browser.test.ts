import { expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { until } from '../helpers/wait.ts';
import { CHROMIUM, useChromium } from '../dashboard/chromium.ts';

const SUBSCRIBER = '+15557654321';
const OTHER = '+15551112222';

describeWithTool("the dashboard's opt-outs panel in headless Chromium (real gateway, virtual lines)", hasCommand(CHROMIUM), 'the Debian package chromium', () => {
  const tempDir = useTempDir();
  const browser = useChromium();

  it("lists a number's opted-out contacts, adds one and removes one, audited as dashboard", async () => {
    const page = browser.page();
    const gw = await startTestGateway(tempDir());
    try {
      await gw.core.optOuts.adminOptOut(gw.numberA, SUBSCRIBER, { actor: 'cli:ops' });
      await page.goto(gw.url);
      await page.getByLabel('Admin token').fill('test-admin-token-0123456789');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.goto(`${gw.url}/#/numbers/${gw.numberA}`);
      const panel = page.getByRole('region', { name: 'Opt-outs' });
      const table = panel.getByRole('table', { name: 'Opted-out contacts' });
      await table.getByRole('row', { name: new RegExp(`\\${SUBSCRIBER} admin \\(cli:ops\\)`) }).waitFor();

      await panel.getByLabel('Contact to opt out').fill(OTHER);
      await panel.getByRole('button', { name: 'Opt out' }).click();
      await table.getByRole('row', { name: new RegExp(`\\${OTHER} admin \\(dashboard\\)`) }).waitFor();
      expect(await gw.core.optOuts.get(gw.numberA, OTHER)).toMatchObject({ state: 'opted_out', source: 'admin', actor: 'dashboard' });

      await panel.getByRole('button', { name: `Remove the opt-out of ${SUBSCRIBER}` }).click();
      await until(async () => (await gw.core.optOuts.get(gw.numberA, SUBSCRIBER))?.state === 'opted_in', 10_000, 'the opt-out removed');
      await table.getByRole('row', { name: new RegExp(`\\${SUBSCRIBER}`) }).waitFor({ state: 'detached' });
      expect((await gw.core.optOuts.audit({ numberId: gw.numberA, limit: 10 })).map((a) => [a.contact, a.action, a.actor])).toEqual([
        [SUBSCRIBER, 'opt_out', 'cli:ops'],
        [OTHER, 'opt_out', 'dashboard'],
        [SUBSCRIBER, 'opt_in', 'dashboard'],
      ]);
      expect(await panel.getByRole('link', { name: /Export this number's opt-out audit log/ }).getAttribute('href')).toBe(`/admin/opt-outs/audit.csv?numberId=${gw.numberA}`);
    } finally {
      await gw.stop();
    }
  });
});
