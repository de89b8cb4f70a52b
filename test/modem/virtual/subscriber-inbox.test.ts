import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { until } from '../../helpers/wait.ts';
import { MediaServer, smallJpeg } from '../../mms/media-server.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const SUBSCRIBER = '+15557654321';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const HTML = new TextEncoder().encode('<html><script>fetch("/admin/keys",{method:"POST"})</script></html>');

interface MmsInbox {
  messages: { from: string; body: string; media: { contentType: string; name: string | null; size: number; url: string }[] }[];
}

describe("virtual subscriber phones' inboxes (real gateway, SQLite, virtual modems on PTYs, virtual MMSC)", () => {
  const tempDir = useTempDir();
  let gw: TestGateway | undefined;
  let media: MediaServer | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await media?.stop();
    media = undefined;
  });

  const start = (dataDir: string) => startTestGateway(dataDir, { media: { allowPrivateHosts: ['127.0.0.1'] } });
  const admin = (g: TestGateway, path: string) => fetch(`${g.url}/admin${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const mmsInbox = async (g: TestGateway) => (await (await admin(g, `/sim/mms-inbox?phone=${encodeURIComponent(SUBSCRIBER)}`)).json()) as MmsInbox;

  it('keeps texts and MMS across a restart on the same data dir; MMS media come by URL with the safe headers, never as base64', async () => {
    const dataDir = tempDir();
    media = new MediaServer();
    await media.start();
    const jpeg = await smallJpeg();
    gw = await start(dataDir);
    const sms = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body: 'plain text' }) });
    expect(sms.status).toBe(200);
    const photo = media.add('/photo.jpg', 'image/jpeg', jpeg);
    const mms = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body: 'a picture', media: [photo] }) });
    expect(mms.status).toBe(200);
    const g1 = gw;
    await until(() => g1.network!.inbox(SUBSCRIBER).length === 1 && g1.mms.mmsc!.entries(SUBSCRIBER).length === 1, 20_000, 'the text and the MMS at the phone');
    // An HTML part reaches a phone only from the subscriber side of the MMSC (the gateway's fetcher refuses it), so put one in directly.
    g1.mms.mmsc!.subscriberSend('+15550001111', SUBSCRIBER, 'html', [{ contentType: 'text/html', name: 'page.html', data: HTML }]);
    await until(() => g1.mms.mmsc!.entries(SUBSCRIBER).length === 2, 20_000, 'the HTML MMS at the phone');
    await gw.stop();
    gw = undefined;

    gw = await start(dataDir);
    expect(gw.network!.inbox(SUBSCRIBER)).toMatchObject([{ body: 'plain text', to: SUBSCRIBER, parts: 1 }]);
    const listed = await mmsInbox(gw);
    expect(listed.messages.map((m) => m.body)).toEqual(['a picture', 'html']);
    expect(JSON.stringify(listed)).not.toContain(Buffer.from(jpeg).toString('base64').slice(0, 64));
    const [image] = listed.messages[0]!.media;
    expect(image).toMatchObject({ contentType: 'image/jpeg', size: jpeg.length, url: expect.stringMatching(/^\/admin\/sim\/media\/[0-9A-Za-z]+$/) });

    const got = await admin(gw, image!.url.replace(/^\/admin/, ''));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/jpeg');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toMatch(/default-src 'none'; sandbox/);
    expect(got.headers.get('content-disposition')).toMatch(/^inline/);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(jpeg))).toBe(true);

    const html = listed.messages[1]!.media[0]!;
    const asHtml = await admin(gw, html.url.replace(/^\/admin/, ''));
    expect(asHtml.headers.get('content-type')).toBe('application/octet-stream');
    expect(asHtml.headers.get('content-disposition')).toBe('attachment; filename="page.html"');
    expect(asHtml.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(Buffer.from(await asHtml.arrayBuffer()).equals(Buffer.from(HTML))).toBe(true);

    // Without the admin token there is nothing; an unknown part is a 404 in the error shape.
    expect((await fetch(`${gw.url}${image!.url}`)).status).toBe(401);
    const missing = await admin(gw, '/sim/media/doesNotExist123');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Not Found', message: expect.any(String) });
  });

  it('`agentphone sim inbox` lists texts and MMS, each MMS part by file name, type and size', async () => {
    const dataDir = tempDir();
    gw = await start(dataDir);
    gw.network!.text('+15550001111', SUBSCRIBER, 'hello there');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(2040)]);
    gw.mms.mmsc!.subscriberSend('+15550002222', SUBSCRIBER, 'two files', [
      { contentType: 'image/png', name: 'cat.png', data: png },
      { contentType: 'text/vcard', name: 'ada.vcf', data: new TextEncoder().encode('BEGIN:VCARD\r\nEND:VCARD\r\n') },
    ]);
    const g = gw;
    await until(() => g.network!.inbox(SUBSCRIBER).length === 1 && g.mms.mmsc!.entries(SUBSCRIBER).length === 1, 20_000, 'both at the phone');
    const env = { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_ADMIN_TOKEN: ADMIN_TOKEN, AGENTPHONE_LOG_LEVEL: 'silent' };
    const human = await cli(['sim', 'inbox', '--phone', SUBSCRIBER, '--url', gw.url], env);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^FROM\s+RECEIVED\s+CHANNEL\s+PARTS\s+BODY\s+FILES$/);
    expect(lines.find((l) => l.includes('hello there'))).toMatch(/\+15550001111 .* sms\s+1\s+hello there$/);
    expect(lines.find((l) => l.includes('two files'))).toMatch(/\+15550002222 .* mms\s+2\s+two files\s+cat\.png \(image\/png, 2\.0 KiB\); ada\.vcf \(text\/vcard, 24 B\)$/);

    const json = JSON.parse((await cli(['sim', 'inbox', '--phone', SUBSCRIBER, '--url', gw.url, '--json'], env)).stdout) as {
      messages: { body: string }[];
      mms: MmsInbox['messages'];
    };
    expect(json.messages.map((m) => m.body)).toEqual(['hello there']);
    expect(json.mms[0]!.media.map((p) => [p.name, p.size])).toEqual([['cat.png', 2048], ['ada.vcf', 24]]);
  });
});
