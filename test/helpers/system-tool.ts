import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

/** Set by .ci/run: a test whose system tool is missing fails instead of skipping. */
export const SYSTEM_TESTS_REQUIRED = process.env.AGENTPHONE_REQUIRE_SYSTEM_TESTS === '1';

/** True when `command args…` runs and exits 0 (e.g. hasCommand('python3', ['-c', 'import gammu'])). */
export function hasCommand(command: string, args: readonly string[] = ['--version']): boolean {
  const res = spawnSync(command, [...args], { stdio: 'ignore', timeout: 10_000 });
  return res.error === undefined && res.status === 0;
}

/**
 * A suite that needs a system tool (a Debian package). Without it the suite is skipped
 * with `need` as the reason, or fails when AGENTPHONE_REQUIRE_SYSTEM_TESTS=1.
 */
export function describeWithTool(name: string, available: boolean, need: string, body: () => void): void {
  if (available) {
    describe(name, body);
  } else if (SYSTEM_TESTS_REQUIRED) {
    describe(name, () => {
      it(`needs ${need} (AGENTPHONE_REQUIRE_SYSTEM_TESTS=1)`, () => {
        throw new Error(`${need} is not installed; .ci/run installs it`);
      });
    });
  } else {
    // A visible skip with its reason (never a silent pass); .ci/run turns it into a failure.
    describe.skip(`${name} — skipped: needs ${need}`, body);
  }
}
