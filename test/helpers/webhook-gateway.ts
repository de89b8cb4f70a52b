import { afterEach, beforeEach } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { startTestGateway } from './test-gateway.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

export type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

export interface WebhookGatewayRig {
  gw: TestGateway;
  receiver: WebhookReceiver;
}

/**
 * For each test of the calling describe block: a test gateway (virtual modems on PTYs) in a
 * fresh temp dir, with its first number's webhook pointed at a loopback receiver; both are
 * stopped after the test. Read `gw` and `receiver` from the returned object inside a test.
 * `overrides` are config keys for the gateway.
 */
export function useWebhookGateway(overrides: Record<string, unknown> = {}): WebhookGatewayRig {
  const tempDir = useTempDir();
  const rig = {} as WebhookGatewayRig;
  beforeEach(async () => {
    rig.receiver = new WebhookReceiver();
    const url = await rig.receiver.start();
    rig.gw = await startTestGateway(tempDir(), overrides);
    await rig.gw.core.numbers.setWebhook(rig.gw.numberA, { url });
  });
  afterEach(async () => {
    await rig.gw?.stop();
    await rig.receiver.stop();
  });
  return rig;
}
