import { defineConfig } from 'vitest/config';

// .ci/run sets AGENTPHONE_TEST_REPORT to a path: the JSON report there gives its summary line.
const report = process.env.AGENTPHONE_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});
