import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ClusterView } from '../../cluster/index.ts';

const ClusterNodeSchema = Type.Object({
  id: Type.String(),
  host: Type.String(),
  alive: Type.Boolean(),
  heartbeatAgeMs: Type.Integer({ minimum: 0, description: "Since the node's last heartbeat, as of this node's last beat" }),
  lines: Type.Array(Type.String(), { description: 'Lines whose lease the node holds' }),
});

/** This node's view of the cluster (also in /healthz, and the "cluster" event of /admin/modems/stream). */
export const ClusterViewSchema = Type.Object({
  node: Type.String({ description: "This node's id" }),
  store: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  connected: Type.Boolean({ description: "This node's last heartbeat reached the store" }),
  leasedElsewhere: Type.Array(Type.Object({ line: Type.String(), node: Type.String() }), {
    description: 'Lines this node drives whose lease another live node holds',
  }),
  nodes: Type.Array(ClusterNodeSchema),
});

/** The dashboard's Nodes panel: every node of the cluster and the lines it holds, as this node last saw them. */
export const adminClusterRoutes: FastifyPluginAsyncTypebox<{ view: () => ClusterView }> = async (app, { view }) => {
  app.get(
    '/cluster',
    { schema: { summary: 'The nodes of the cluster, alive or not, with their heartbeat age and the lines each holds', tags: ['dashboard'], response: { 200: ClusterViewSchema } } },
    async () => view(),
  );
};
