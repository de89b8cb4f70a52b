import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { SignalingStatus } from '../../voice/index.ts';

const TrunkStatusSchema = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('register'), Type.Literal('ip')]),
  state: Type.Union([Type.Literal('registered'), Type.Literal('registering'), Type.Literal('failed'), Type.Literal('ip')]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
});

const VoiceStatusSchema = Type.Object({
  /** False when voice is off (no voice.drachtio). */
  enabled: Type.Boolean(),
  connected: Type.Boolean(),
  trunks: Type.Array(TrunkStatusSchema),
});

/** The dashboard's voice card: drachtio connection and each trunk's registration, with their errors. */
export const adminVoiceStatusRoutes: FastifyPluginAsyncTypebox<{ status: () => SignalingStatus | undefined }> = async (app, opts) => {
  app.get(
    '/voice/status',
    { schema: { summary: 'SIP server connection and trunk registrations', tags: ['dashboard'], response: { 200: VoiceStatusSchema } } },
    async () => {
      const s = opts.status();
      return s ? { enabled: true, connected: s.connected, trunks: s.trunks } : { enabled: false, connected: false, trunks: [] };
    },
  );
};
