import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ClusterView } from '../../cluster/index.ts';
import { UnavailableError } from '../../errors/index.ts';
import type { VirtualMmsc } from '../../mms/index.ts';
import type { ModemPool, VirtualNetwork } from '../../modem/index.ts';
import { errorResponses } from '../schemas.ts';
import { every, SseHub } from './dashboard-sse.ts';
import { mmsInboxView } from './mms-sim.ts';

export interface AdminDashboardLiveOptions {
  pool: ModemPool;
  network?: VirtualNetwork;
  /** The virtual MMSC, whose MMS to subscriber phones the simulator's stream carries too. */
  mmsc?: VirtualMmsc;
  /** This node's view of the cluster (refreshed at each heartbeat), streamed beside the lines. */
  cluster: () => ClusterView;
  /** How often line status and the cluster view are sampled for changes (line state changes go at once). */
  liveIntervalMs: number;
}

const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$' });

/** Live views that need the modem pool: line status and the virtual subscriber's phone, as server-sent events. */
export const adminDashboardLiveRoutes: FastifyPluginAsyncTypebox<AdminDashboardLiveOptions> = async (app, { pool, network, mmsc, cluster, liveIntervalMs }) => {
  const hub = new SseHub(app);

  app.get(
    '/modems/stream',
    {
      schema: {
        summary: 'Server-sent events: "lines" with every line\'s status whenever any of it changes, "cluster" with the cluster view (as GET /admin/cluster) whenever it changes',
        tags: ['dashboard'],
        hide: true,
      },
    },
    async (request, reply) => {
      const stream = hub.open(request, reply);
      const pushLines = changes(() => pool.lines(), (lines) => stream.send('lines', { lines }));
      const pushCluster = changes(cluster, (view) => stream.send('cluster', view));
      pushLines();
      pushCluster();
      pool.on('state', pushLines);
      stream.onClose(() => pool.off('state', pushLines));
      every(stream, liveIntervalMs, () => {
        pushLines();
        pushCluster();
      });
    },
  );

  app.get(
    '/sim',
    {
      schema: {
        summary: 'Whether virtual lines run, and their numbers (what the simulator can text)',
        tags: ['dashboard'],
        response: { 200: Type.Object({ enabled: Type.Boolean(), lines: Type.Array(Type.Object({ lineId: Type.String(), number: Type.String() })) }) },
      },
    },
    async () => ({ enabled: network !== undefined, lines: network ? network.lines().map((l) => ({ lineId: l.lineId, number: l.number })) : [] }),
  );

  app.get(
    '/sim/stream',
    {
      schema: {
        summary: 'Server-sent events: "inbox" with everything a virtual subscriber phone has received (texts, and MMS with media by URL), on every arrival',
        tags: ['dashboard'],
        hide: true,
        querystring: Type.Object({ phone: E164 }),
        response: { ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!network) throw new UnavailableError('No virtual modem network is running: the gateway uses real modems');
      const net = network;
      const phone = request.query.phone;
      const stream = hub.open(request, reply);
      const push = () => stream.send('inbox', { phone, messages: net.inbox(phone), mms: mmsc ? mmsInboxView(mmsc, phone) : [] });
      const onInbox = (to: string) => {
        if (to === phone) push();
      };
      push();
      net.on('inbox', onInbox);
      mmsc?.on('inbox', onInbox);
      stream.onClose(() => {
        net.off('inbox', onInbox);
        mmsc?.off('inbox', onInbox);
      });
    },
  );
};

/** A poll that hands `read()`'s value to `send` only when it differs from the last one sent. */
function changes<T>(read: () => T, send: (value: T) => void): () => void {
  let last = '';
  return () => {
    const value = read();
    const text = JSON.stringify(value);
    if (text === last) return;
    last = text;
    send(value);
  };
}
