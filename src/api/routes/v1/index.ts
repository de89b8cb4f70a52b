import type { FastifyPluginAsync } from 'fastify';
import { chatRoutes, type ChatRoutesOptions } from './chat.ts';
import { modelsRoutes, type ModelsRoutesOptions } from './models.ts';
import { speechRoutes, type SpeechRoutesOptions } from './speech.ts';
import { voicesRoutes } from './voices.ts';

/** The OpenAI-compatible /api/v1 surface; each group is registered when its service is given. */
export interface V1RoutesOptions {
  chat?: ChatRoutesOptions;
  models?: ModelsRoutesOptions;
  voices?: boolean;
  speech?: SpeechRoutesOptions;
}

export const v1Routes: FastifyPluginAsync<V1RoutesOptions> = async (app, options) => {
  if (options.chat) await app.register(chatRoutes, options.chat);
  if (options.models) await app.register(modelsRoutes, options.models);
  if (options.voices) await app.register(voicesRoutes);
  if (options.speech) await app.register(speechRoutes, options.speech);
};
