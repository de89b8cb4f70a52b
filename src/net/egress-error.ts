import { AgentPhoneError } from '../errors/index.ts';
import type { EgressPurpose } from './egress-policy.ts';

/** A connection the egress policy does not allow; never retried on its own (the policy must change). */
export class EgressRefusedError extends AgentPhoneError {
  constructor(
    readonly purpose: EgressPurpose,
    readonly host: string,
  ) {
    super('EGRESS_REFUSED', `the egress policy does not allow ${purpose} connections to ${host} (see egress in the config)`, { status: 502 });
  }
}
