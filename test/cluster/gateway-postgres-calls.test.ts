/**
 * Calls on a cluster: two real gateway nodes in this process on one real PostgreSQL. Node A has
 * no voice; node B has voice through the loopback SipSignaling fake (the test plays the trunk, as
 * test/voice/calls.test.ts does; no SIP server runs here) with real RTP on loopback and fake
 * speech models. A call placed through A is queued in the store, claimed and dialled by B (woken
 * over LISTEN/NOTIFY, or by its poll), seen from A, and hung up through A.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildOffer, describeAudio } from '../../src/voice/index.ts';
import { CallsRepository } from '../../src/store/index.ts';
import { LoopbackSignaling } from '../fakes/sip-loopback.ts';
import { FakeInference } from '../fakes/voice.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { RtpPeer } from '../voice/helpers/rtp-peer.ts';

type Node = Awaited<ReturnType<typeof startTestGateway>>;

const LINE_A = { id: 'line-a', number: '+15550000021', dialect: 'quectel' };
const LINE_B = { id: 'line-b', number: '+15550000022', dialect: 'simcom' };
const VOICE = {
  mediaAddress: '127.0.0.1',
  rtpBindHost: '127.0.0.1',
  rtpPorts: { min: 46_000, max: 46_999 },
  greeting: 'Hello from node B.',
};
const need = postgresUnavailable();

interface CallView {
  status: string;
  endReason: string | null;
  direction: string;
  from: string;
  to: string;
}

describeWithTool('calls on gateway nodes sharing one PostgreSQL', need === undefined, need ?? '', () => {
  const tempDir = useTempDir('agentphone-pg-calls-');
  let server: TestPostgres;
  let url = '';
  let a: Node;
  let b: Node | undefined;
  const signaling = new LoopbackSignaling();
  const inference = new FakeInference();
  let peer: RtpPeer;
  let numberA = '';

  const node = (id: string, line: typeof LINE_A, voice: boolean) =>
    startTestGateway(
      tempDir(),
      { store: { postgres: { url } }, cluster: { nodeId: id, heartbeatMs: 200, leaseMs: 5000 }, virtual: { lines: [line] }, ...(voice && { voice: VOICE }) },
      undefined,
      voice ? { voice: { signaling, inference } } : {},
    );
  const place = (to: string) => a.api(`/api/numbers/${numberA}/calls`, { method: 'POST', body: JSON.stringify({ to }) });
  const view = async (callId: string) => (await (await a.api(`/api/numbers/${numberA}/calls/${callId}`)).json()) as CallView;

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
    a = await node('node-a', LINE_A, false);
    const n = (await a.core.numbers.list()).find((r) => r.phoneNumber === LINE_A.number);
    numberA = n?.id as string;
    peer = await RtpPeer.open();
  }, 120_000);

  afterAll(async () => {
    peer?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await server?.stop();
  });

  it('answers 503 while no node of the cluster has voice', async () => {
    expect(a.voice.manager).toBeUndefined();
    const res = await place('+15557654321');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('No node of this cluster has voice') });
    b = await node('node-b', LINE_B, true);
    await until(() => a.membership.view().nodes.some((n) => n.id === 'node-b' && n.alive), 10_000, 'node B seen from A');
  }, 60_000);

  it("places a call through node A that node B dials; A shows its status and A's hangup ends it on B", async () => {
    const res = await place('+15557654321');
    expect(res.status).toBe(200);
    const { callId, status } = (await res.json()) as { callId: string; status: string };
    expect(status).toBe('queued');
    const out = await signaling.nextOutbound();
    expect(out).toMatchObject({ from: LINE_A.number, to: '+15557654321' });
    expect((await a.voice.calls.get(callId))?.nodeId).toBe('node-b');
    const offer = describeAudio(out.offer);
    peer.sendTo(offer.address, offer.port);
    const dialog = out.answer(buildOffer({ address: '127.0.0.1', port: peer.port, sessionId: 7, sessionVersion: 1 }));
    await until(() => inference.spoken.includes('Hello from node B.'), 5000, 'greeting spoken on B');
    await until(async () => (await view(callId)).status === 'in-progress', 5000, 'in-progress seen from A');
    expect(await view(callId)).toMatchObject({ direction: 'outbound', from: LINE_A.number, to: '+15557654321' });
    const hangup = await a.api(`/api/numbers/${numberA}/calls/${callId}/hangup`, { method: 'POST', body: '{}' });
    expect(hangup.status).toBe(200);
    // The route waits (boundedly) for B to end it; B's BYE went to the far end.
    await until(() => dialog.byeSent, 5000, 'BYE from B');
    await until(async () => (await view(callId)).status === 'completed', 5000, 'completed seen from A');
    expect(await view(callId)).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    expect(b?.voice.manager?.activeCalls).toBe(0);
  });

  it("cancels through A a call no node has taken (B's SIP server is down), and B dials a queued call once it can, without a new hint", async () => {
    await signaling.stop();
    const res = await place('+15557654322');
    const { callId } = (await res.json()) as { callId: string };
    expect((await a.voice.calls.get(callId))?.nodeId).toBeNull();
    const hangup = await a.api(`/api/numbers/${numberA}/calls/${callId}/hangup`, { method: 'POST', body: '{}' });
    expect(await hangup.json()).toMatchObject({ status: 'canceled', endReason: 'api_hangup' });
    expect(signaling.outbound).toHaveLength(0);

    const waiting = (await (await place('+15557654323')).json()) as { callId: string };
    // The `call` hint came and went while B could not dial: B's poll finds the call.
    await signaling.start();
    const out = await signaling.nextOutbound();
    expect(out.to).toBe('+15557654323');
    expect((await a.voice.calls.get(waiting.callId))?.nodeId).toBe('node-b');
    out.reject(486);
    await until(async () => (await view(waiting.callId)).status === 'failed', 5000, 'failed seen from A');
    expect(await view(waiting.callId)).toMatchObject({ endReason: 'sip_486' });
  });

  it('ends the calls a dead node left live (node_lost): answered ones completed, the others failed', async () => {
    const calls = new CallsRepository(a.core.store.db);
    const base = { numberId: numberA, direction: 'outbound' as const, contact: '+15557654324', sipCallId: null, greeting: null, instructions: null, apiKeyId: null, createdAt: new Date().toISOString(), nodeId: 'node-ghost' };
    await calls.insert({ ...base, id: 'call_ghost_ringing', status: 'ringing' });
    await calls.insert({ ...base, id: 'call_ghost_talking', status: 'ringing' });
    expect(await calls.markAnswered('call_ghost_talking', new Date().toISOString())).toBe(true);
    await until(async () => (await calls.get('call_ghost_talking'))?.status === 'completed' && (await calls.get('call_ghost_ringing'))?.status === 'failed', 10_000, 'ghost calls ended');
    expect(await calls.get('call_ghost_talking')).toMatchObject({ endReason: 'node_lost', billableMinutes: 1 });
    expect(await calls.get('call_ghost_ringing')).toMatchObject({ endReason: 'node_lost', billableMinutes: 0 });
  });
});
