import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { AddressPolicy, fetchMedia, fitMedia, MediaError, FileMediaStore } from '../../src/mms/index.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { describeOnEachDialect } from '../helpers/store-dialects.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { MediaServer, noisePng, smallJpeg } from './media-server.ts';

const LIMITS = { maxFileBytes: 200_000, timeoutMs: 2000, maxRedirects: 2 };
const loopbackOk = new AddressPolicy(['127.0.0.1']);

describe('media address policy (SSRF)', () => {
  const policy = new AddressPolicy();
  it.each([
    '127.0.0.1', '127.1.2.3', '10.0.0.5', '172.16.9.9', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0',
    '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:10.1.1.1', '224.0.0.1',
  ])('refuses %s', (address) => {
    expect(policy.permits('example.com', address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:2800:220:1:248:1893:25c8:1946'])('allows the public address %s', (address) => {
    expect(policy.permits('example.com', address)).toBe(true);
  });

  it('lets the operator allowlist hosts, addresses and ranges', () => {
    const allow = new AddressPolicy(['cdn.internal', '10.1.0.0/16', '127.0.0.1']);
    expect(allow.permits('cdn.internal', '10.9.9.9')).toBe(true);
    expect(allow.permits('other', '10.1.2.3')).toBe(true);
    expect(allow.permits('other', '10.2.0.1')).toBe(false);
    expect(allow.permits('other', '127.0.0.1')).toBe(true);
    expect(allow.permits('other', '127.0.0.2')).toBe(false);
  });
});

describe('fetchMedia', () => {
  const server = new MediaServer();
  const tempDir = useTempDir();
  let dir = '';
  const fetchTo = (url: string, index: number, limits: typeof LIMITS, policy: AddressPolicy) => fetchMedia(url, index, limits, policy, { dir });
  beforeEach(async () => {
    dir = tempDir();
    await server.start();
  });
  afterEach(() => server.stop());

  async function refusal(p: Promise<unknown>): Promise<MediaError> {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    return err as MediaError;
  }

  it('fetches an allowed type with its name, trusting the bytes over a generic header', async () => {
    const jpeg = await smallJpeg();
    const got = await fetchTo(server.add('/a/photo.jpg', 'application/octet-stream', jpeg), 0, LIMITS, loopbackOk);
    expect(got).toMatchObject({ contentType: 'image/jpeg', name: 'photo.jpg' });
    expect(got.size).toBe(jpeg.length);
    expect(readFileSync(got.path).equals(Buffer.from(jpeg))).toBe(true);
    expect(statSync(got.path).mode & 0o777).toBe(0o600);
  });

  it('refuses loopback without an allowlist, by literal address and by name', async () => {
    const url = server.add('/x.jpg', 'image/jpeg', await smallJpeg());
    expect((await refusal(fetchTo(url, 0, LIMITS, new AddressPolicy()))).code).toBe('MEDIA_FORBIDDEN_ADDRESS');
    const byName = url.replace('127.0.0.1', 'localhost');
    expect((await refusal(fetchTo(byName, 0, LIMITS, new AddressPolicy()))).code).toBe('MEDIA_FORBIDDEN_ADDRESS');
    expect((await refusal(fetchTo('http://169.254.169.254/latest/meta-data/', 0, LIMITS, new AddressPolicy()))).code).toBe('MEDIA_FORBIDDEN_ADDRESS');
  });

  it('checks every redirect hop against the policy and caps their number', async () => {
    server.redirects.set('/to-metadata', 'http://169.254.169.254/latest/meta-data/');
    expect((await refusal(fetchTo(`${server.base}/to-metadata`, 0, LIMITS, loopbackOk))).code).toBe('MEDIA_FORBIDDEN_ADDRESS');
    server.redirects.set('/r1', '/r2');
    server.redirects.set('/r2', '/r3');
    server.redirects.set('/r3', '/img');
    server.add('/img', 'image/jpeg', await smallJpeg());
    expect((await refusal(fetchTo(`${server.base}/r1`, 0, LIMITS, loopbackOk))).code).toBe('MEDIA_REDIRECTS');
    expect((await fetchTo(`${server.base}/r2`, 0, LIMITS, loopbackOk)).contentType).toBe('image/jpeg');
  });

  it('refuses files over the per-file limit and types MMS cannot carry', async () => {
    const big = await noisePng(400, 400);
    expect(big.length).toBeGreaterThan(LIMITS.maxFileBytes);
    expect((await refusal(fetchTo(server.add('/big.png', 'image/png', big), 0, LIMITS, loopbackOk))).code).toBe('MEDIA_TOO_LARGE');
    const html = server.add('/p.html', 'text/html', new TextEncoder().encode('<html>'));
    const err = await refusal(fetchTo(html, 2, LIMITS, loopbackOk));
    expect(err.code).toBe('MEDIA_TYPE');
    expect(err.message).toMatch(/^media\[2\]: content type "text\/html"/);
    expect((await refusal(fetchTo(`${server.base}/missing`, 0, LIMITS, loopbackOk))).code).toBe('MEDIA_FETCH_FAILED');
  });

  it('gives up on a server that does not answer in time', async () => {
    const slow: Server = createServer(() => undefined);
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow.jpg`;
    const err = await refusal(fetchTo(url, 0, { ...LIMITS, timeoutMs: 200 }, loopbackOk));
    expect(err.code).toBe('MEDIA_TIMEOUT');
    expect(err.retryable).toBe(true);
    slow.closeAllConnections();
    slow.close();
  });
});

describe('fitMedia', () => {
  it('leaves media under the limit untouched and shrinks images over it', async () => {
    const small = await smallJpeg();
    const same = await fitMedia([{ contentType: 'image/jpeg', name: 's.jpg', data: small }], 600_000, 2048);
    expect(same[0]!.data).toBe(small);
    const big = await noisePng(1200, 900);
    const vcard = { contentType: 'text/vcard', name: 'a.vcf', data: new Uint8Array(5000) };
    const out = await fitMedia([{ contentType: 'image/png', name: 'big.png', data: big }, vcard], 120_000, 2048);
    expect(out[0]).toMatchObject({ contentType: 'image/jpeg', name: 'big.jpg' });
    expect(out[0]!.data.length + 5000 + 2048).toBeLessThanOrEqual(120_000);
    expect(out[1]).toBe(vcard);
    expect((await sharp(out[0]!.data).metadata()).format).toBe('jpeg');
  });

  it('refuses, before decoding, an image that claims more pixels than any camera takes (a decompression bomb)', async () => {
    // A real PNG whose IHDR is rewritten to claim 20,000 × 20,000 pixels (1.6 GB decoded), CRC fixed.
    const png = Buffer.from(await noisePng(64, 64));
    png.writeUInt32BE(20_000, 16);
    png.writeUInt32BE(20_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    const bomb = { contentType: 'image/png', name: 'bomb.png', data: new Uint8Array(png) };
    await expect(fitMedia([bomb], 1024 * 8, 2048)).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE', message: expect.stringContaining('20000×20000 pixels') });
  });

  it('refuses what cannot shrink: non-images over the limit', async () => {
    const video = { contentType: 'video/mp4', name: 'v.mp4', data: new Uint8Array(700_000) };
    await expect(fitMedia([video], 600_000, 2048)).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });
  });
});

describeOnEachDialect('MediaStore', (open) => {
  const tempDir = useTempDir();

  it('stores content once, serves by id, and deletes expired media and orphaned files', async () => {
    const dir = tempDir();
    const t = await open();
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const store = new FileMediaStore({ dir: `${dir}/media`, store: t.store, clock, retentionDays: 2, baseUrl: () => 'https://gw.example/' });
    const data = new TextEncoder().encode('BEGIN:VCARD\r\nEND:VCARD\r\n');
    const a = await store.write(data, 'text/vcard', 'a.vcf');
    const [sa] = await t.store.tx((tx) => store.insert([a], 'msg_1', tx));
    expect(sa!.url).toBe(`https://gw.example/media/${a.id}`);
    expect(await store.lookup(a.id)).toMatchObject({ contentType: 'text/vcard', size: data.length });
    expect(Buffer.from(data).equals((await (await store.lookup(a.id))!.read())!)).toBe(true);
    clock.advance(86_400_000);
    const b = await store.write(data, 'text/vcard', 'b.vcf');
    expect(b.sha256).toBe(a.sha256);
    expect(b.id).not.toBe(a.id);
    await store.insert([b], 'msg_2');
    clock.advance(86_400_000 + 1);
    expect(await store.lookup(a.id)).toBeUndefined();
    expect(await store.cleanup()).toBe(1);
    expect(existsSync(store.pathOf(a.sha256))).toBe(true); // b still points at the same bytes
    clock.advance(86_400_000);
    expect(await store.cleanup()).toBe(1);
    expect(existsSync(store.pathOf(a.sha256))).toBe(false);
    await t.close();
  });
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
