import { validateConfig } from '../../src/config/index.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { silentLogger } from '../../src/logging/index.ts';
import type { RetryPolicy } from '../../src/webhooks/index.ts';

export const FAST_RETRY: RetryPolicy = { maxAttempts: 3, delaysMs: [50, 100], jitter: 0, maxRetryAfterMs: 100 };

/** A whole gateway on loopback: real SQLite, virtual modems on real PTYs, fast network hops. */
export async function startTestGateway(
  dataDir: string,
  overrides: Record<string, unknown> = {},
  webhookRetry: RetryPolicy = FAST_RETRY,
  /** Adapters injected into the gateway (e.g. voice signaling). */
  gatewayOptions: Omit<NonNullable<Parameters<typeof startGateway>[2]>, 'webhookRetry'> = {},
): Promise<Gateway & { key: string; numberA: string; numberB: string; api: (path: string, init?: RequestInit) => Promise<Response> }> {
  const config = validateConfig({
    dataDir,
    adminToken: 'test-admin-token-0123456789',
    server: { port: 0 },
    log: { level: 'silent' },
    ...overrides,
    virtual: { latency: { minMs: 5, maxMs: 15 }, sendsPerMinute: 6000, ...(overrides.virtual as object | undefined) },
  });
  const gateway = await startGateway(config, silentLogger(), { webhookRetry, ...gatewayOptions });
  const numbers = await gateway.core.numbers.list();
  const byLine = (line: string) => numbers.find((n) => n.lineId === line)?.id as string;
  const key = (await gateway.core.apiKeys.create({ name: 'test' })).key;
  await Promise.all(gateway.pool.lines().map((l) => waitReady(gateway, l.id)));
  return {
    ...gateway,
    key,
    numberA: byLine('virtual-1'),
    numberB: byLine('virtual-2'),
    api: (path, init = {}) =>
      fetch(`${gateway.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
      }),
  };
}

function waitReady(gateway: Gateway, lineId: string): Promise<void> {
  if (gateway.pool.line(lineId).state === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const onState = ({ lineId: id, state }: { lineId: string; state: string }) => {
      if (id === lineId && state === 'ready') {
        gateway.pool.off('state', onState);
        resolve();
      }
    };
    gateway.pool.on('state', onState);
  });
}
