import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { Config } from '../../config/index.ts';

type TrunkConfig = Config['voice']['trunks'][number];

/** The user part a registered trunk's Contact carries: carriers send its calls to this URI. */
export function contactUser(trunk: Pick<TrunkConfig, 'username'>): string {
  return trunk.username ?? 'agentphone';
}

/** The user part of a SIP URI (or of a header holding one), as sent. */
function uriUser(uri: string): string {
  return /^(?:sips?|tel):([^@;>]+)/i.exec(uri.replace(/^.*</, ''))?.[1] ?? '';
}

/** The user part of a SIP URI as E.164 (a leading + added to bare digits). */
export function e164FromUri(uri: string): string {
  const user = uriUser(uri).replace(/^\+/, '');
  const digits = user.replace(/[^0-9]/g, '');
  return digits ? `+${digits}` : user;
}

/**
 * The number an INVITE is for. A call a carrier sends to our registration carries our Contact
 * (its user part is the trunk's username, not a phone number) as request URI: the number is the
 * trunk's configured one, else the To header's. Anything else names the number in its request
 * URI (To as a fallback).
 */
export function dialledNumber(requestUri: string, toHeader: string, trunk: TrunkConfig | undefined): string {
  if (trunk?.register && uriUser(requestUri) === contactUser(trunk)) return trunk.number ?? e164FromUri(toHeader);
  return e164FromUri(requestUri) || e164FromUri(toHeader);
}

/** One allow-list entry: an IP, a CIDR, or a host name to resolve. */
export type SourceRule = { kind: 'ip'; address: string; family: 'ipv4' | 'ipv6' } | { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6' } | { kind: 'host'; name: string };

const familyOf = (address: string): 'ipv4' | 'ipv6' | undefined => (isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : undefined);

/** Parses an allow entry; undefined when it is none of IP, CIDR or host name. */
export function parseSourceRule(entry: string): SourceRule | undefined {
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (cidr) {
    const family = familyOf(cidr[1] as string);
    const prefix = Number(cidr[2]);
    if (!family || prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
    return { kind: 'cidr', address: cidr[1] as string, prefix, family };
  }
  const family = familyOf(entry);
  if (family) return { kind: 'ip', address: entry, family };
  return /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(entry) ? { kind: 'host', name: entry } : undefined;
}

/** The entries a trunk accepts INVITEs from: its `allow` list, or by default its own host. */
export function allowEntries(trunk: Pick<TrunkConfig, 'host' | 'allow'>): readonly string[] {
  return trunk.allow ?? [trunk.host];
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Who may send us INVITEs: the answer names the trunk the source belongs to. */
export type SourceVerdict = { allowed: true; trunk: TrunkConfig | undefined } | { allowed: false };

/**
 * Which source addresses may call in. Each trunk accepts its allow entries (host names resolved
 * when `refresh` runs) plus the addresses its registrar answered from. With no trunk configured
 * only loopback may call: a gateway that has no carrier yet is reachable from this host alone.
 */
export class CallerPolicy {
  private lists = new Map<string, BlockList>();
  private readonly registrars = new Map<string, Set<string>>();

  constructor(
    private readonly trunks: readonly TrunkConfig[],
    private readonly resolve: (name: string) => Promise<string[]> = async (name) => (await lookup(name, { all: true })).map((a) => a.address),
  ) {
    for (const t of trunks) this.lists.set(t.name, this.build(t, []));
  }

  /** Resolves host names in the allow lists again (at start and on each reconnect); a name that fails to resolve allows nothing. */
  async refresh(): Promise<Array<{ trunk: string; host: string; error: string }>> {
    const failures: Array<{ trunk: string; host: string; error: string }> = [];
    const next = new Map<string, BlockList>();
    for (const t of this.trunks) {
      const resolved: string[] = [];
      for (const entry of allowEntries(t)) {
        const rule = parseSourceRule(entry);
        if (rule?.kind !== 'host') continue;
        try {
          resolved.push(...(await this.resolve(rule.name)));
        } catch (err) {
          failures.push({ trunk: t.name, host: rule.name, error: (err as Error).message });
        }
      }
      next.set(t.name, this.build(t, resolved));
    }
    this.lists = next;
    return failures;
  }

  /** A registered trunk's registrar answered from `address`: its calls may come from there too. */
  learnRegistrar(trunk: string, address: string): void {
    if (!familyOf(address)) return;
    const set = this.registrars.get(trunk) ?? new Set<string>();
    set.add(address);
    this.registrars.set(trunk, set);
  }

  check(source: string | undefined): SourceVerdict {
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    const address = source?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = address === undefined ? undefined : familyOf(address);
    if (!address || !family) return { allowed: false };
    if (this.trunks.length === 0) return LOOPBACK.check(address, family) ? { allowed: true, trunk: undefined } : { allowed: false };
    for (const t of this.trunks) {
      if (this.lists.get(t.name)?.check(address, family) || this.registrars.get(t.name)?.has(address)) return { allowed: true, trunk: t };
    }
    return { allowed: false };
  }

  private build(trunk: TrunkConfig, resolved: readonly string[]): BlockList {
    const list = new BlockList();
    for (const entry of [...allowEntries(trunk), ...resolved]) {
      const rule = parseSourceRule(entry);
      if (rule?.kind === 'ip') list.addAddress(rule.address, rule.family);
      else if (rule?.kind === 'cidr') list.addSubnet(rule.address, rule.prefix, rule.family);
    }
    return list;
  }
}
