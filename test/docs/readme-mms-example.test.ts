import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, expect, it } from 'vitest';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';

// The README's offline MMS example as written: the gateway started with examples/local-media.yaml,
// the picture served by Python's http.server from examples/media on loopback, the send API
// given its URL, and the virtual subscriber's phone receiving the very bytes.
const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SUBSCRIBER = '+15557654321';

function startStaticServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', join(ROOT, 'examples', 'media')]);
  let out = '';
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`http.server exited ${code}: ${out}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const port = /port (\d+)/.exec(out)?.[1];
      if (port) resolve({ child, port: Number(port) });
    });
  });
}

describeWithTool('README: MMS offline (examples/local-media.yaml + a loopback static server)', hasCommand('python3'), 'python3', () => {
  const tempDir = useTempDir();
  const stops: Array<() => unknown> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('the README runs the same commands this test does', () => {
    expect(README).toContain('AGENTPHONE_CONFIG=examples/local-media.yaml npm start');
    expect(README).toContain('python3 -m http.server 8081 --bind 127.0.0.1 --directory examples/media');
    expect(README).toContain('"media":["http://127.0.0.1:8081/photo.png"]');
    expect(README).toContain('--media examples/media/photo.png');
  });

  it('sends the picture served from this machine to the subscriber, byte for byte', async () => {
    const server = await startStaticServer();
    stops.push(() => server.child.kill());
    const overrides = parse(readFileSync(join(ROOT, 'examples', 'local-media.yaml'), 'utf8')) as Record<string, unknown>;
    const gw = await startTestGateway(tempDir(), overrides);
    stops.push(() => gw.stop());
    const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, {
      method: 'POST',
      body: JSON.stringify({ to: SUBSCRIBER, body: 'hi', media: [`http://127.0.0.1:${server.port}/photo.png`] }),
    });
    expect(res.status).toBe(200);
    const [got] = await until(() => {
      const inbox = gw.mms.mmsc!.inbox(SUBSCRIBER);
      return inbox.length > 0 && inbox;
    }, 20_000, 'the MMS in the subscriber inbox');
    expect(got!.text).toBe('hi');
    expect(got!.media.map((m) => m.contentType)).toEqual(['image/png']);
    expect(Buffer.from(got!.media[0]!.data).equals(readFileSync(join(ROOT, 'examples', 'media', 'photo.png')))).toBe(true);
  });

  it('without the example config the same URL is refused (loopback is not fetched by default)', async () => {
    const server = await startStaticServer();
    stops.push(() => server.child.kill());
    const gw = await startTestGateway(tempDir());
    stops.push(() => gw.stop());
    const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, {
      method: 'POST',
      body: JSON.stringify({ to: SUBSCRIBER, body: 'hi', media: [`http://127.0.0.1:${server.port}/photo.png`] }),
    });
    const { messageId } = (await res.json()) as { messageId: string };
    const failed = await until(async () => {
      const m = await gw.core.messages.get(messageId);
      return m?.status === 'failed' && m;
    }, 20_000, 'the send to fail');
    expect(JSON.stringify(failed)).toContain('MEDIA_FORBIDDEN_ADDRESS');
  });
});
