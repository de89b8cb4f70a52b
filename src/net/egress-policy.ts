/**
 * Where the gateway may connect, per purpose. `default`: the hosts the configuration names (and
 * the egress lists), plus public addresses for media, webhooks and the MMSC, plus the host of a
 * webhook URL the operator set for a number. `strict`: only hosts the configuration names or lists.
 */
import type { Config } from '../config/index.ts';
import { AddressList, isPublicAddress } from './address-policy.ts';

export const EGRESS_PURPOSES = ['webhooks', 'media', 'mmsc', 'sip', 'upstreams'] as const;
export type EgressPurpose = (typeof EGRESS_PURPOSES)[number];
export type EgressMode = 'default' | 'strict';

/** What a decision needs to know about the target beyond its host and address. */
export interface EgressTarget {
  /** The URL was set by the operator (a number's webhook URL set through the admin API or dashboard). */
  operatorSet?: boolean;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

const defined = (xs: ReadonlyArray<string | undefined>): string[] => [...new Set(xs.filter((x): x is string => x !== undefined && x !== ''))];

/** The hosts each purpose's endpoints in the configuration name (not the egress lists). */
export function configuredHosts(config: Readonly<Config>): Record<EgressPurpose, string[]> {
  const virtualMms = config.virtual.mms.enabled && (config.virtual.enabled === true || (config.virtual.enabled === 'auto' && config.modems.length === 0));
  return {
    webhooks: defined(config.numbers.map((n) => (n.webhookUrl === undefined ? undefined : hostOf(n.webhookUrl)))),
    media: defined(config.media.allowPrivateHosts),
    mmsc: defined([
      ...config.modems.flatMap((m) => (m.mms?.transport === 'http' ? [hostOf(m.mms.mmsc), m.mms.proxy?.split(':')[0]] : [])),
      // The virtual MMSC listens on loopback.
      ...(virtualMms ? ['127.0.0.1'] : []),
    ]),
    sip: defined([...(config.voice.drachtio ? [config.voice.drachtio.host] : []), ...config.voice.trunks.map((t) => t.host)]),
    upstreams: defined(config.upstreams.flatMap((u) => [u.baseUrl, ...u.replicas].map(hostOf))),
  };
}

/**
 * Purposes that may reach public addresses in default mode: agents' media URLs, webhooks, and
 * the MMSC (an m-notification's content location is often on another carrier host).
 */
const PUBLIC_BY_DEFAULT: ReadonlySet<EgressPurpose> = new Set(['media', 'webhooks', 'mmsc']);

export class EgressPolicy {
  readonly mode: EgressMode;
  private readonly lists: Record<EgressPurpose, AddressList>;

  constructor(config: Readonly<Config>) {
    this.mode = config.egress.mode;
    const named = configuredHosts(config);
    this.lists = Object.fromEntries(EGRESS_PURPOSES.map((p) => [p, new AddressList([...named[p], ...config.egress[p]])])) as Record<EgressPurpose, AddressList>;
  }

  /** Whether `host`, resolved to `address`, may be connected to for `purpose`. */
  permits(purpose: EgressPurpose, host: string, address: string, target: EgressTarget = {}): boolean {
    if (this.lists[purpose].matches(host, address)) return true;
    if (this.mode === 'strict') return false;
    if (purpose === 'webhooks' && target.operatorSet === true) return true;
    return PUBLIC_BY_DEFAULT.has(purpose) && isPublicAddress(address);
  }

  /** The hosts, addresses and ranges listed or named for a purpose. */
  listed(purpose: EgressPurpose): readonly string[] {
    return this.lists[purpose].entries;
  }
}

const ALSO: Record<EgressMode, Partial<Record<EgressPurpose, string>>> = {
  default: {
    webhooks: 'public addresses, and the host of any webhook URL set for a number',
    media: 'public addresses',
    mmsc: "public addresses (carriers' content locations)",
  },
  strict: {},
};

/** The effective policy, one line per purpose, for `agentphone doctor` and the logs. */
export function describeEgressPolicy(config: Readonly<Config>): string[] {
  const policy = new EgressPolicy(config);
  const lines = [`mode: ${policy.mode}${policy.mode === 'strict' ? ' (only the hosts below)' : ''}`];
  for (const purpose of EGRESS_PURPOSES) {
    const listed = policy.listed(purpose);
    const also = ALSO[policy.mode][purpose];
    const parts = [listed.length > 0 ? listed.join(', ') : 'nothing listed', ...(also ? [`plus ${also}`] : [])];
    lines.push(`${purpose}: ${parts.join('; ')}`);
  }
  return lines;
}
