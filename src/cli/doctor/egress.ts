import { describeEgressPolicy } from '../../net/index.ts';
import { ok, type DoctorCheck } from './check.ts';

/** The effective egress policy (config egress), one line per purpose; informational, never a failure. */
export const egressCheck: DoctorCheck = async ({ config }) => describeEgressPolicy(config).map((line) => ok('egress', line));
