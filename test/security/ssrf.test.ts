import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy, fetchMedia, MediaError } from '../../src/mms/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

/** Every address form a media URL (or a DNS answer, or a redirect) could use to reach a non-global host. */
const REFUSED: readonly [string, string][] = [
  ['IPv4 loopback', '127.0.0.1'],
  ['IPv4 loopback, other host', '127.1.2.3'],
  ['IPv4 this-network', '0.0.0.0'],
  ['IPv4 private 10/8', '10.0.0.5'],
  ['IPv4 private 172.16/12', '172.16.9.9'],
  ['IPv4 private 192.168/16', '192.168.1.1'],
  ['IPv4 link-local / cloud metadata', '169.254.169.254'],
  ['IPv4 CGNAT', '100.100.100.200'],
  ['IPv4 IETF protocol assignments', '192.0.0.170'],
  ['IPv4 documentation', '192.0.2.1'],
  ['IPv4 6to4 relay anycast', '192.88.99.1'],
  ['IPv4 benchmarking', '198.18.0.1'],
  ['IPv4 multicast', '224.0.0.1'],
  ['IPv4 reserved', '240.0.0.1'],
  ['IPv4 broadcast', '255.255.255.255'],
  ['IPv6 unspecified', '::'],
  ['IPv6 loopback', '::1'],
  ['IPv6 loopback, long form', '0:0:0:0:0:0:0:1'],
  ['IPv4-mapped loopback, dotted', '::ffff:127.0.0.1'],
  ['IPv4-mapped loopback, hex (as new URL() writes it)', '::ffff:7f00:1'],
  ['IPv4-mapped private', '::ffff:10.1.1.1'],
  ['IPv4-mapped metadata, hex', '::ffff:a9fe:a9fe'],
  ['IPv4-mapped public (mapped is IPv4 only through a dual stack socket)', '::ffff:0:0'],
  ['IPv4-compatible loopback', '::127.0.0.1'],
  ['IPv4-compatible, hex', '::7f00:1'],
  ['IPv4-compatible public', '::8.8.8.8'],
  ['IPv4-translated ::ffff:0:0:0/96', '::ffff:0:7f00:1'],
  ['IPv4-translated, dotted', '::ffff:0:10.0.0.1'],
  ['NAT64 well-known 64:ff9b::/96', '64:ff9b::7f00:1'],
  ['NAT64 well-known, public IPv4', '64:ff9b::808:808'],
  ['NAT64 local-use 64:ff9b:1::/48', '64:ff9b:1::a00:1'],
  ['discard-only 100::/64', '100::1'],
  ['unique local fc00::/7', 'fd00:ec2::254'],
  ['unique local fc00::/8', 'fc00::1'],
  ['link-local fe80::/10', 'fe80::1'],
  ['link-local, upper end', 'febf::1'],
  ['link-local with a zone id', 'fe80::1%eth0'],
  ['site-local fec0::/10', 'fec0::1'],
  ['multicast ff00::/8', 'ff02::1'],
  ['multicast, global scope', 'ff0e::1'],
  ['Teredo 2001::/32', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ['benchmarking 2001:2::/48', '2001:2::1'],
  ['ORCHIDv2 2001:20::/28', '2001:20::1'],
  ['documentation 2001:db8::/32', '2001:db8::1'],
  ['documentation 3fff::/20', '3fff::1'],
  ['6to4 of loopback', '2002:7f00:1::1'],
  ['6to4 of 10/8', '2002:a00:1::'],
  ['6to4 of 192.168/16', '2002:c0a8:101::1'],
  ['6to4 of metadata', '2002:a9fe:a9fe::'],
  ['SRv6 SIDs 5f00::/16', '5f00::1'],
  ['unallocated outside 2000::/3', '4000::1'],
];

const ALLOWED: readonly [string, string][] = [
  ['public IPv4', '93.184.216.34'],
  ['public IPv4 8.8.8.8', '8.8.8.8'],
  ['IPv4-mapped public IPv4', '::ffff:8.8.8.8'],
  ['public IPv6', '2606:2800:220:1:248:1893:25c8:1946'],
  ['6to4 of a public IPv4', '2002:808:808::1'],
];

describe('SSRF: the media address policy refuses every non-global form', () => {
  const policy = new AddressPolicy();

  it.each(REFUSED)('refuses %s (%s)', (_what, address) => {
    expect(policy.permits('example.com', address)).toBe(false);
  });

  it.each(ALLOWED)('allows %s (%s)', (_what, address) => {
    expect(policy.permits('example.com', address)).toBe(true);
  });

  it('an allowlisted IPv4 address covers its mapped form, and nothing else', () => {
    const allow = new AddressPolicy(['127.0.0.1']);
    expect(allow.permits('x', '::ffff:7f00:1')).toBe(true);
    expect(allow.permits('x', '::7f00:1')).toBe(false);
    expect(allow.permits('x', '2002:7f00:1::1')).toBe(false);
    expect(allow.permits('x', '64:ff9b::7f00:1')).toBe(false);
  });
});

describe('SSRF: the same refusals at a URL and at every redirect hop', () => {
  const tempDir = useTempDir();
  const LIMITS = { maxFileBytes: 100_000, timeoutMs: 2000, maxRedirects: 2 };
  let server: Server;
  let base = '';
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) return void res.writeHead(302, { location: to }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, 'localhost', r));
    // Reached by name, so that the allowlist entry (the name) does not cover the literal targets.
    base = `http://localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const urlFor = (address: string) => (address.includes(':') ? `http://[${address}]:1/a.jpg` : `http://${address}:1/a.jpg`);
  const literal = REFUSED.filter(([, a]) => !a.includes('%'));

  async function code(p: Promise<unknown>): Promise<string> {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    return (err as MediaError).code;
  }

  it.each(literal)('refuses a URL at %s (%s)', async (_what, address) => {
    expect(await code(fetchMedia(urlFor(address), 0, LIMITS, new AddressPolicy(), { dir: tempDir() }))).toBe('MEDIA_FORBIDDEN_ADDRESS');
  });

  it.each(literal)('refuses a redirect to %s (%s)', async (_what, address) => {
    // The first hop (loopback, by name) is allowlisted; only the redirect target is under test.
    const start = `${base}/r?to=${encodeURIComponent(urlFor(address))}`;
    const before = seen.length;
    expect(await code(fetchMedia(start, 0, LIMITS, new AddressPolicy(['localhost']), { dir: tempDir() }))).toBe('MEDIA_FORBIDDEN_ADDRESS');
    expect(seen.length).toBe(before + 1);
  });
});
