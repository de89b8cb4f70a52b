import { afterEach, describe, expect, it } from 'vitest';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

describe('GET /admin/cluster (real gateway on loopback, virtual lines)', () => {
  const tempDir = useTempDir();
  let gw: Awaited<ReturnType<typeof startTestGateway>> | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it("answers this node's view of the cluster to the admin token, and 401 without it", async () => {
    gw = await startTestGateway(tempDir(), { cluster: { nodeId: 'node-x' } });
    const url = `${gw.url}/admin/cluster`;

    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'Unauthorized' });
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-admin-token-0123456789' } })).status).toBe(401);
    // An API key is not an admin credential.
    expect((await fetch(url, { headers: { authorization: `Bearer ${gw.key}` } })).status).toBe(401);

    const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const view = (await res.json()) as { nodes: Array<{ heartbeatAgeMs: number }> };
    expect(view).toEqual({
      node: 'node-x',
      store: 'sqlite',
      connected: true,
      leasedElsewhere: [],
      nodes: [{ id: 'node-x', host: expect.any(String), alive: true, heartbeatAgeMs: expect.any(Number), lines: ['virtual-1', 'virtual-2'] }],
    });
    expect(view.nodes[0]?.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
  });
});
