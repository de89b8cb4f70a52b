/**
 * A call across the cluster over real SIP: two gateway nodes in this process on one real
 * PostgreSQL; node A has no voice, node B is connected to a real drachtio-server whose trunk is a
 * sipp callee. The call is placed through A's API, dialled by B (sipp gets B's INVITE and
 * answers), seen from A, and hung up through A (sipp gets B's BYE).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { answeringCallee, writeScenario } from '../helpers/sipp-scenarios.ts';
import { startDrachtio, type DrachtioServer } from '../helpers/sip-peers.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { FakeInference } from '../fakes/voice.ts';
import { RtpPeer } from '../voice/helpers/rtp-peer.ts';
import { sippUnavailable, smallRtpRange, startSipp, untilRtpPortsFree, type SippPeer } from '../voice/helpers/real-sip.ts';

type Node = Awaited<ReturnType<typeof startTestGateway>>;

const CALLEE = '+15557654399';
const need = postgresUnavailable() ?? sippUnavailable();

describeWithTool('a call placed on one node and dialled by another over a real drachtio-server', need === undefined, need ?? '', () => {
  const tempDir = useTempDir('agentphone-pg-sip-');
  const rtpPorts = smallRtpRange();
  let pg: TestPostgres;
  let drachtio: DrachtioServer;
  let sipp: SippPeer;
  let peer: RtpPeer;
  let a: Node;
  let b: Node;

  beforeAll(async () => {
    [pg, drachtio, peer] = await Promise.all([startPostgres(), startDrachtio(), RtpPeer.open()]);
    const url = await pg.createDatabase();
    const dir = tempDir();
    sipp = await startSipp(dir, writeScenario(dir, 'callee', answeringCallee(peer.port)));
    const cluster = (nodeId: string) => ({ store: { postgres: { url } }, cluster: { nodeId, heartbeatMs: 200, leaseMs: 5000 } });
    a = await startTestGateway(tempDir(), { ...cluster('node-a'), virtual: { lines: [{ id: 'line-a', number: '+15550000031', dialect: 'quectel' }] } });
    b = await startTestGateway(
      tempDir(),
      {
        ...cluster('node-b'),
        virtual: { lines: [{ id: 'line-b', number: '+15550000032', dialect: 'simcom' }] },
        voice: {
          drachtio: { host: drachtio.host, port: drachtio.port, secret: drachtio.secret },
          trunks: [{ name: 'sipp', host: '127.0.0.1', port: sipp.port, transport: 'udp' }],
          mediaAddress: '127.0.0.1',
          rtpBindHost: '127.0.0.1',
          rtpPorts,
        },
      },
      undefined,
      { voice: { inference: new FakeInference() } },
    );
    await until(() => b.voice.manager?.signalingStatus().connected, 10_000, 'node B connected to drachtio');
    await until(() => a.membership.view().nodes.some((n) => n.id === 'node-b' && n.alive), 10_000, 'node B seen from A');
  }, 120_000);

  afterAll(async () => {
    peer?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await Promise.allSettled([drachtio?.stop(), pg?.stop()]);
  });

  it("node B dials the call placed through A; A sees it answered, and A's hangup makes B send BYE", async () => {
    expect(a.voice.manager).toBeUndefined();
    const numberId = (await a.core.numbers.list()).find((n) => n.phoneNumber === '+15550000031')?.id as string;
    const res = await a.api(`/api/numbers/${numberId}/calls`, { method: 'POST', body: JSON.stringify({ to: CALLEE }) });
    expect(res.status).toBe(200);
    const { callId } = (await res.json()) as { callId: string };
    const view = async () => (await (await a.api(`/api/numbers/${numberId}/calls/${callId}`)).json()) as { status: string; endReason: string | null; from: string; to: string };
    await until(async () => (await view()).status === 'in-progress', 15_000, 'answered, seen from A');
    expect(await view()).toMatchObject({ from: '+15550000031', to: CALLEE });
    expect((await a.voice.calls.get(callId))?.nodeId).toBe('node-b');
    const hangup = await a.api(`/api/numbers/${numberId}/calls/${callId}/hangup`, { method: 'POST', body: '{}' });
    expect(hangup.status).toBe(200);
    const result = await sipp.done;
    expect(result.code, `sipp did not get the INVITE and the BYE:\n${result.stdout.slice(-2000)}${result.stderr}`).toBe(0);
    await until(async () => (await view()).status === 'completed', 5000, 'completed, seen from A');
    expect(await view()).toMatchObject({ endReason: 'api_hangup' });
    await untilRtpPortsFree(rtpPorts);
  });
});
