import type { Config } from '../../config/index.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the doctor's report. */
export interface CheckResult {
  /** What was checked, e.g. "data dir" or "modem modem-1". */
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found and, for warn/fail, what to do about it. */
  readonly detail: string;
  /** The same findings as values, for `--json` (models: dtypes on disk, provider, device). */
  readonly data?: Readonly<Record<string, string | number | boolean | null | readonly string[]>>;
}

export interface DoctorContext {
  readonly config: Readonly<Config>;
  /** Bound on each network or device probe. */
  readonly timeoutMs: number;
}

/** A check: one or more lines (one per modem, per webhook URL…); never throws for what it finds. */
export type DoctorCheck = (ctx: DoctorContext) => Promise<readonly CheckResult[]>;

type Data = CheckResult['data'];
const result = (status: CheckStatus) => (name: string, detail: string, data?: Data): CheckResult => (data === undefined ? { name, status, detail } : { name, status, detail, data });
export const ok = result('ok');
export const warn = result('warn');
export const fail = result('fail');

/** Runs the checks in order; a check that throws is reported as a failed line, not a crash. */
export async function runChecks(checks: readonly DoctorCheck[], ctx: DoctorContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      results.push(...(await check(ctx)));
    } catch (err) {
      results.push(fail(check.name || 'check', `the check itself failed: ${(err as Error).message}`));
    }
  }
  return results;
}

export function formatResult(r: CheckResult): string {
  return `${r.status.padEnd(4)}  ${r.name}: ${r.detail}`;
}
