import type { DoctorCheck } from './check.ts';
import { dataDirCheck, lockCheck } from './data-dir.ts';
import { egressCheck } from './egress.ts';
import { drachtioCheck, webhooksCheck } from './network.ts';
import { modelsCheck, onnxRuntimeCheck, toolsCheck } from './runtime.ts';
import { modemAtCheck, serialPortsCheck } from './serial.ts';

export { fail, formatResult, ok, runChecks, warn, type CheckResult, type CheckStatus, type DoctorCheck, type DoctorContext } from './check.ts';

/** What `agentphone doctor` runs, in order. A new check is one more entry here. */
export const DOCTOR_CHECKS: DoctorCheck[] = [dataDirCheck, lockCheck, serialPortsCheck, modemAtCheck, toolsCheck, onnxRuntimeCheck, modelsCheck, drachtioCheck, webhooksCheck, egressCheck];
