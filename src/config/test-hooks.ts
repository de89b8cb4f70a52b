/**
 * Test-only switches, read from the environment here (nothing else reads process.env) and
 * honoured only when NODE_ENV=test, so a production gateway never acts on them.
 */

/**
 * AGENTPHONE_TEST_EXTRA_CONNECT=host:port makes the gateway open one connection nobody
 * configured, outside the egress policy: the privacy test shows its watcher catches it.
 */
export function testExtraConnect(env: Readonly<Record<string, string | undefined>> = process.env): { host: string; port: number } | undefined {
  if (env.NODE_ENV !== 'test') return undefined;
  const match = /^(.+):(\d{1,5})$/.exec(env.AGENTPHONE_TEST_EXTRA_CONNECT ?? '');
  if (!match) return undefined;
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}
