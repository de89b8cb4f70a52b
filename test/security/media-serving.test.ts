import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, type App } from '../../src/api/index.ts';
import { contentDisposition, mediaRoutes } from '../../src/api/routes/media.ts';
import { validateConfig } from '../../src/config/index.ts';
import { buildCoreApp, createCore, type Core } from '../../src/core.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { createMediaStore, type MediaStore } from '../../src/mms/index.ts';
import { safeContentType, safeMediaName } from '../../src/mms/media/media-store.ts';

const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const SCRIPT = Buffer.from('<html><body><script>fetch("/admin/keys",{method:"POST"})</script></body></html>');

/** The file name a browser takes from Content-Disposition: filename* (RFC 8187) when present. */
function nameFrom(disposition: string): string | undefined {
  const star = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
  if (star) return decodeURIComponent(star);
  return /filename="([^"]*)"/.exec(disposition)?.[1];
}

describe.each(['files', 'database'] as const)('received media at /media/:id (%s store) cannot script the operator and can always be downloaded', (kind) => {
  let dir: string;
  let core: Core;
  let app: App;
  let store: MediaStore;
  let url: string;

  // One gateway app for the suite: every case stores its own media under a fresh id.
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-media-'));
    core = await createCore(validateConfig({ dataDir: dir, adminToken: 'test-admin-token-0123456789' }), silentLogger());
    store = createMediaStore(kind, { dir: `${dir}/media`, store: core.store, clock: core.clock, retentionDays: 0, baseUrl: () => url });
    app = await buildCoreApp(core, { routes: [(root) => root.register(mediaRoutes, { media: store })] });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await closeApp(app, 1000);
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stores bytes the way an inbound MMS does and fetches them back over real HTTP. */
  async function storeAndGet(data: Uint8Array, contentType: string, name: string | null): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const row = await store.write(data, contentType, name);
    const [stored] = await store.insert([row], `msg_${randomBytes(4).toString('hex')}`);
    const res = await fetch(stored!.url);
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  const expectLockedDown = (res: { headers: Headers }) => {
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/(^|; )sandbox(;|$)/);
    expect(csp).toMatch(/^default-src 'none'/);
  };

  it.each([
    'text/html',
    'TEXT/HTML; charset=utf-8',
    'image/svg+xml',
    'application/xhtml+xml',
    'text/xml',
    'application/xml',
    'application/pdf',
    'text/javascript',
    'application/x-shockwave-flash',
    'multipart/related',
    'text/html\r\nX-Injected: 1',
    '',
  ])('serves a part declared %j as an application/octet-stream attachment', async (declared) => {
    const res = await storeAndGet(SCRIPT, declared, 'card.html');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="card.html"');
    expect(res.headers.get('x-injected')).toBeNull();
    expectLockedDown(res);
    expect(res.body.equals(SCRIPT)).toBe(true);
  });

  it('serves images, audio, video and plain text inline with their type, vCards as labelled downloads', async () => {
    const png = await storeAndGet(PNG_1X1, 'image/png', 'dot.png');
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toBe('inline; filename="dot.png"');
    expectLockedDown(png);
    expect(png.body.equals(PNG_1X1)).toBe(true);
    const video = await storeAndGet(new Uint8Array([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70]), 'video/mp4', null);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    expect(video.headers.get('content-disposition')).toBe('inline');
    const text = await storeAndGet(Buffer.from('hello'), 'text/plain; charset=UTF-7', 'note.txt');
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const latin = await storeAndGet(Buffer.from('caf\xe9', 'latin1'), 'text/plain; charset="ISO-8859-1"', 'note.txt');
    expect(latin.headers.get('content-type')).toBe('text/plain; charset=iso-8859-1');
    const card = await storeAndGet(Buffer.from('BEGIN:VCARD\r\nEND:VCARD\r\n'), 'text/x-vcard', 'me.vcf');
    expect(card.headers.get('content-type')).toBe('text/x-vcard');
    expect(card.headers.get('content-disposition')).toBe('attachment; filename="me.vcf"');
    expectLockedDown(card);
  });

  it.each([
    ['CJK', '写真.jpg', '写真.jpg'],
    ['emoji', '😀 party 🎉.png', '😀 party 🎉.png'],
    ['controls and CR/LF', 'a\u0000b\u0007c\r\nd\u009b.png', 'a_b_c__d_.png'],
    ['a right-to-left override hiding the extension', 'photo\u202Egnp.exe', 'photo_gnp.exe'],
    ['path separators and quotes', '../..\\etc/"pass"wd%41.png', '.._.._etc_"pass"wd%41.png'],
    ['a lone surrogate', 'a\uD800b.png', 'a_b.png'],
  ])('downloads a file whose name has %s, and gives the name back per RFC 6266', async (_what, name, expected) => {
    const res = await storeAndGet(PNG_1X1, 'image/png', name);
    expect(res.status).toBe(200);
    const disposition = res.headers.get('content-disposition') ?? '';
    expect(disposition).toMatch(/^inline; filename="[\x20-\x7e]*"/);
    expect(nameFrom(disposition)).toBe(expected);
    expect(res.body.equals(PNG_1X1)).toBe(true);
  });

  it('serves rows stored before sanitising (CR/LF in the type, controls and CJK in the name) instead of a 500', async () => {
    const row = await store.write(PNG_1X1, 'image/png', null);
    for (const [contentType, name] of [
      ['image/png\r\nSet-Cookie: agentphone_session=attacker', '写真\r\n.png'],
      ['text/html\u0000', 'x\u0007.html'],
      ['image/p\u00e9ng', '\u0000'],
    ] as const) {
      const id = randomBytes(8).toString('hex');
      // Inserted as it stood (the sanitising is write's): the row and its bytes, as either store keeps them.
      await store.insert([{ ...row, id, contentType, name }], 'msg_old');
      const res = await fetch(`${url}/media/${id}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(['image/png', 'application/octet-stream']).toContain(res.headers.get('content-type'));
      expectLockedDown(res);
    }
  });

  it('answers 404 in the {error, message} shape when a row is left but its bytes are gone (a file on another node)', async () => {
    const data = randomBytes(32);
    const row = await store.write(data, 'image/png', null);
    const [stored] = await store.insert([row], 'msg_gone');
    await core.store.db.deleteFrom('media_blobs').where('media_id', '=', row.id).execute();
    rmSync(store.pathOf(row.sha256), { force: true });
    const res = await fetch(stored!.url);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'Not Found', message: 'No such media (it may have expired)' });
  });

  it('keeps only well-formed types and names when storing', () => {
    expect(safeContentType('Image/PNG ; name="x"')).toBe('image/png');
    expect(safeContentType('text/plain; charset=utf-8\r\nX: 1')).toBe('text/plain');
    expect(safeContentType('text/plain;charset="utf-8"')).toBe('text/plain; charset=utf-8');
    expect(safeContentType('image/png\r\n')).toBe('image/png');
    expect(safeContentType('ima ge/png')).toBe('application/octet-stream');
    expect(safeContentType(null)).toBe('application/octet-stream');
    expect(safeMediaName('  \u0000 ')).toBe('_');
    expect(safeMediaName(' \t ')).toBe('_');
    expect(safeMediaName('   ')).toBeNull();
    expect(safeMediaName('x'.repeat(300))).toHaveLength(255);
    expect(safeMediaName('😀'.repeat(300))).toBe('😀'.repeat(255));
    expect(contentDisposition('attachment', "it's (1)*.png")).toBe(`attachment; filename="it's (1)*.png"`);
    expect(contentDisposition('attachment', "é'(*.png")).toBe(`attachment; filename="_'(*.png"; filename*=UTF-8''%C3%A9%27%28%2A.png`);
  });
});

describe('media.publicUrl', () => {
  const tempDir = useTempDir();
  it('is the base of the media links a gateway hands out', async () => {
    const gw = await startTestGateway(tempDir(), { media: { publicUrl: 'https://media.gw.example/base/' } });
    try {
      expect(gw.mms.media.urlOf('abc123')).toBe('https://media.gw.example/base/media/abc123');
    } finally {
      await gw.stop();
    }
  });
});
