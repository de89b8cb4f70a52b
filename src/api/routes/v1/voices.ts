import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { VOICES } from '../../../inference/runners/tts/index.ts';
import { openAiErrorResponses } from './error-schema.ts';

const VoiceList = Type.Object({
  voices: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), language: Type.String() })),
});

/** GET /v1/voices: the spec's {"voices":[{id,name}]}, plus each voice's language. */
export const voicesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const body = { voices: VOICES.map((v) => ({ id: v.id, name: v.name, language: v.language })) };
  app.get(
    '/voices',
    { schema: { summary: 'List TTS voices', security: [{ bearer: [] }], response: { 200: VoiceList, ...openAiErrorResponses } } },
    async () => body,
  );
};
