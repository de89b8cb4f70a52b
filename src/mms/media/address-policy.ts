/**
 * Which addresses a media fetch may reach: never loopback, private, link-local, CGNAT,
 * multicast or cloud metadata addresses, unless the operator allowlisted the host or range.
 */
import { BlockList, isIP } from 'node:net';

const BLOCKED_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const BLOCKED_V6 = [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const;

const blocked = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of BLOCKED_V6) blocked.addSubnet(net, prefix, 'ipv6');

/** "::ffff:10.0.0.1" → "10.0.0.1", so mapped addresses get the IPv4 rules. */
function unmap(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1] as string, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export class AddressPolicy {
  private readonly allowedHosts = new Set<string>();
  private readonly allowed = new BlockList();

  /** Entries: host names ("media.internal"), addresses ("127.0.0.1") or CIDR ranges ("10.0.0.0/8"). */
  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const [net, bits] = entry.split('/');
      const family = isIP(net ?? '');
      if (family === 0) this.allowedHosts.add(entry.toLowerCase());
      else if (bits === undefined) this.allowed.addAddress(net as string, family === 6 ? 'ipv6' : 'ipv4');
      else this.allowed.addSubnet(net as string, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  hostAllowed(host: string): boolean {
    return this.allowedHosts.has(host.toLowerCase());
  }

  /** True when `address` (an IP literal) may be connected to for `host`. */
  permits(host: string, address: string): boolean {
    if (this.hostAllowed(host)) return true;
    const { address: a, family } = unmap(address);
    if (this.allowed.check(a, family)) return true;
    return !blocked.check(a, family);
  }
}
