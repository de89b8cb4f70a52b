/** The gateway's outbound connections, each tagged with its purpose and checked against the egress policy. */
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import { EgressRefusedError } from './egress-error.ts';
import { egressFetch, type FetchLike } from './egress-fetch.ts';
import { EgressPolicy, type EgressPurpose, type EgressTarget } from './egress-policy.ts';
import type { AddressGate, Refusal } from './guarded-request.ts';

export interface Egress {
  readonly policy: EgressPolicy;
  /** The gate for one purpose; a refusal is logged with the purpose, host and address (never a path or query). */
  gate(purpose: EgressPurpose, target?: EgressTarget): AddressGate;
  /** The error a refused connection of this purpose fails with. */
  refusal(purpose: EgressPurpose): Refusal;
  /** fetch() for one purpose, through its gate. */
  fetch(purpose: EgressPurpose, target?: EgressTarget): FetchLike;
}

export function createEgress(config: Readonly<Config>, logger: Logger): Egress {
  const policy = new EgressPolicy(config);
  const log = logger.child({ mod: 'egress' });
  const gate = (purpose: EgressPurpose, target: EgressTarget = {}): AddressGate => ({
    permits(host, address) {
      const ok = policy.permits(purpose, host, address, target);
      if (!ok) log.warn({ purpose, host, address, mode: policy.mode }, 'outbound connection refused by the egress policy');
      return ok;
    },
  });
  const refusal = (purpose: EgressPurpose): Refusal => (host) => new EgressRefusedError(purpose, host);
  return {
    policy,
    gate,
    refusal,
    fetch: (purpose, target) => egressFetch(gate(purpose, target), refusal(purpose)),
  };
}
