/**
 * Which addresses an outbound connection may reach: by default only globally routable ones, never loopback,
 * private, link-local, CGNAT, multicast, documentation or cloud metadata addresses, nor an
 * IPv6 form that embeds or translates to one, unless the operator allowlisted the host or range.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const BLOCKED_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;

/**
 * IPv6 is refused outside global unicast 2000::/3, which leaves out at once ::, ::1, the
 * IPv4-compatible ::/96, mapped ::ffff:0:0/96 (handled as IPv4 first), translated
 * ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, discard 100::/64, fc00::/7,
 * fe80::/10, site-local fec0::/10 and multicast ff00::/8. Inside 2000::/3 these are not global:
 */
const BLOCKED_V6_UNICAST = [
  // IETF protocol assignments: Teredo 2001::/32 (it tunnels to an address of its own choosing),
  // benchmarking 2001:2::/48, ORCHID 2001:10::/28 and 2001:20::/28.
  ['2001::', 23],
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
] as const;
/** 6to4: the IPv4 address in bits 16–47 is where the packets go, so it gets the IPv4 rules. */
const SIX_TO_FOUR = ['2002::', 16] as const;

const blockedV4 = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blockedV4.addSubnet(net, prefix, 'ipv4');
const globalV6 = new BlockList();
globalV6.addSubnet('2000::', 3, 'ipv6');
const blockedV6 = new BlockList();
for (const [net, prefix] of BLOCKED_V6_UNICAST) blockedV6.addSubnet(net, prefix, 'ipv6');
const sixToFour = new BlockList();
sixToFour.addSubnet(SIX_TO_FOUR[0], SIX_TO_FOUR[1], 'ipv6');

/** The 16 bytes of an IPv6 literal (no zone id: those are link-local only). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  const bytes = new Uint8Array(16);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = (dotted[1] as string).split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${(((v4[0] as number) << 8) | (v4[1] as number)).toString(16)}:${(((v4[2] as number) << 8) | (v4[3] as number)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

const v4At = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** An IP literal as the family and address its packets actually go to; undefined when not a plain literal. */
function target(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  if (isIPv4(address)) return { address, family: 'ipv4' };
  if (!isIPv6(address) || address.includes('%')) return undefined;
  const b = ipv6Bytes(address);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return { address: v4At(b, 12), family: 'ipv4' };
  return { address, family: 'ipv6' };
}

function isGlobal(t: { address: string; family: 'ipv4' | 'ipv6' }): boolean {
  if (t.family === 'ipv4') return !blockedV4.check(t.address, 'ipv4');
  if (!globalV6.check(t.address, 'ipv6') || blockedV6.check(t.address, 'ipv6')) return false;
  if (sixToFour.check(t.address, 'ipv6')) return !blockedV4.check(v4At(ipv6Bytes(t.address), 2), 'ipv4');
  return true;
}

/** True when `address` (an IP literal) is globally routable: not loopback, private, link-local, CGNAT, metadata… */
export function isPublicAddress(address: string): boolean {
  const t = target(address);
  return t !== undefined && isGlobal(t);
}

/** Host names ("media.internal"), addresses ("127.0.0.1") and CIDR ranges ("10.0.0.0/8"), as an operator lists them. */
export class AddressList {
  private readonly hosts = new Set<string>();
  private readonly ranges = new BlockList();

  constructor(readonly entries: readonly string[] = []) {
    for (const entry of entries) {
      const [net, bits] = entry.split('/');
      const family = isIPv4(net ?? '') ? 'ipv4' : isIPv6(net ?? '') ? 'ipv6' : undefined;
      if (family === undefined) this.hosts.add(entry.toLowerCase());
      else if (bits === undefined) this.ranges.addAddress(net as string, family);
      else this.ranges.addSubnet(net as string, Number(bits), family);
    }
  }

  hasHost(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }

  /** An IP literal inside a listed address or range (an IPv4-mapped IPv6 address counts as its IPv4 one). */
  hasAddress(address: string): boolean {
    const t = target(address);
    return t !== undefined && this.ranges.check(t.address, t.family);
  }

  /** The host is listed by name, or the address it resolved to is listed. */
  matches(host: string, address: string): boolean {
    return this.hasHost(host) || this.hasAddress(address);
  }
}

/** Globally routable addresses, plus what the operator allowlisted (media.allowPrivateHosts). */
export class AddressPolicy {
  private readonly list: AddressList;

  /** Entries: host names ("media.internal"), addresses ("127.0.0.1") or CIDR ranges ("10.0.0.0/8"). */
  constructor(allow: readonly string[] = []) {
    this.list = new AddressList(allow);
  }

  hostAllowed(host: string): boolean {
    return this.list.hasHost(host);
  }

  /** True when `address` (an IP literal) may be connected to for `host`. */
  permits(host: string, address: string): boolean {
    return this.list.matches(host, address) || isPublicAddress(address);
  }
}
