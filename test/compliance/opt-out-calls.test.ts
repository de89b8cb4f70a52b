import { afterEach, describe, expect, it } from 'vitest';
import { FakeInference } from '../fakes/voice.ts';
import { LoopbackSignaling } from '../fakes/sip-loopback.ts';
import { FAST_RETRY, startTestGateway } from '../helpers/test-gateway.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const tempDir = useTempDir('agentphone-optout-calls-');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const CONTACT = '+15557654321';

describe('opt-outs and outbound calls (SIP signaling over the loopback fake, fake speech models)', () => {
  it('refuses POST /calls to an opted-out contact with 403, and places it once the opt-out is removed', async () => {
    // The loopback signaling and fake inference stand in for drachtio and the ONNX models, which cannot run here.
    const signaling = new LoopbackSignaling();
    const voice = { mediaAddress: '127.0.0.1', rtpBindHost: '127.0.0.1', rtpPorts: { min: 42_000, max: 42_099 } };
    const gw = await startTestGateway(tempDir(), { voice }, FAST_RETRY, { voice: { signaling, inference: new FakeInference() } });
    cleanup.push(() => gw.stop());
    const call = () => gw.api(`/api/numbers/${gw.numberA}/calls`, { method: 'POST', body: JSON.stringify({ to: CONTACT }) });

    await gw.core.optOuts.adminOptOut(gw.numberA, CONTACT, { actor: 'test' });
    const refused = await call();
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: string; message: string };
    expect(body.error).toBe('Forbidden');
    expect(body.message).toContain(`${CONTACT} opted out of messages from +15550000001`);
    expect(await gw.voice.calls.list(gw.numberA, { limit: 10 })).toHaveLength(0);

    await gw.core.optOuts.adminOptIn(gw.numberA, CONTACT, { actor: 'test' });
    const placed = await call();
    expect(placed.status).toBe(200);
    (await signaling.nextOutbound()).reject(486);
    expect(await gw.voice.calls.list(gw.numberA, { limit: 10 })).toHaveLength(1);
  });
});
