import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
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
  /** How often line status is sampled for changes (signal, queue depth…; state changes go at once). */
  liveIntervalMs: number;
}

const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$' });

/** Live views that need the modem pool: line status and the virtual subscriber's phone, as server-sent events. */
export const adminDashboardLiveRoutes: FastifyPluginAsyncTypebox<AdminDashboardLiveOptions> = async (app, { pool, network, mmsc, liveIntervalMs }) => {
  const hub = new SseHub(app);

  app.get(
    '/modems/stream',
    { schema: { summary: 'Server-sent events: "lines" with every line\'s status whenever any of it changes', tags: ['dashboard'], hide: true } },
    async (request, reply) => {
      const stream = hub.open(request, reply);
      let last = '';
      const push = () => {
        const lines = pool.lines();
        const text = JSON.stringify(lines);
        if (text === last) return;
        last = text;
        stream.send('lines', { lines });
      };
      push();
      pool.on('state', push);
      stream.onClose(() => pool.off('state', push));
      every(stream, liveIntervalMs, push);
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
