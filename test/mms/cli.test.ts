import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { smallJpeg } from './media-server.ts';

describe('agentphone sim text --media', () => {
  const tempDir = useTempDir();
  let gw: Awaited<ReturnType<typeof startTestGateway>> | undefined;
  const receiver = new WebhookReceiver();
  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  it('sends an MMS as a virtual subscriber; the agent gets its file at the webhook media URL', async () => {
    const hook = await receiver.start();
    gw = await startTestGateway(tempDir());
    await gw.core.numbers.setWebhook(gw.numberA, { url: hook });
    const dir = tempDir();
    const file = join(dir, 'cat.jpg');
    const jpeg = await smallJpeg();
    writeFileSync(file, jpeg);
    const env = { AGENTPHONE_DATA_DIR: dir, AGENTPHONE_ADMIN_TOKEN: 'test-admin-token-0123456789' };
    const res = await cli(['sim', 'text', '--from', '+15557654321', '--to', '+15550000001', '--body', 'meow', '--media', file, '--url', gw.url, '--json'], env);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ queued: true });
    await receiver.waitFor(() => receiver.events('message.inbound').length === 1, 20_000);
    const payload = receiver.events('message.inbound')[0]!.json as { channel: string; body: string; media: string[] };
    expect(payload).toMatchObject({ channel: 'mms', body: 'meow' });
    const served = await fetch(payload.media[0]!);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await served.arrayBuffer()).equals(Buffer.from(jpeg))).toBe(true);

    const html = join(dir, 'page.html');
    writeFileSync(html, '<html><body>not media</body></html>');
    const bad = await cli(['sim', 'text', '--from', '+15557654321', '--to', '+15550000001', '--media', html, '--url', gw.url, '--json'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/cannot be sent by MMS/);
  });
});
