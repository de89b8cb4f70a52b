import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { UnknownModelError } from '../../../inference/index.ts';
import type { ModelEntry } from '../../../inference/runners/llm/index.ts';
import { openAiErrorResponses } from './error-schema.ts';

export interface ModelsRoutesOptions {
  /** Each source lists its models (chat router, TTS, speech-to-text registry...). */
  sources: ReadonlyArray<() => ModelEntry[] | Promise<ModelEntry[]>>;
}

const ModelSchema = Type.Object({ id: Type.String(), object: Type.Literal('model'), created: Type.Integer(), owned_by: Type.String() });
const ModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(ModelSchema) });

/** GET /v1/models: local and upstream models in one list, the first source winning on a name clash. */
export const modelsRoutes: FastifyPluginAsyncTypebox<ModelsRoutesOptions> = async (app, { sources }) => {
  const list = async () => {
    const seen = new Map<string, ModelEntry>();
    for (const listed of await Promise.all(sources.map((source) => source()))) for (const m of listed) if (!seen.has(m.id)) seen.set(m.id, m);
    return [...seen.values()];
  };
  app.get(
    '/models',
    { schema: { summary: 'List available models', security: [{ bearer: [] }], response: { 200: ModelList, ...openAiErrorResponses } } },
    async () => ({ object: 'list' as const, data: await list() }),
  );
  app.get(
    '/models/:id',
    {
      schema: {
        summary: 'One model',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String() }),
        response: { 200: ModelSchema, ...openAiErrorResponses },
      },
    },
    async (request) => {
      const models = await list();
      const model = models.find((m) => m.id === request.params.id);
      if (!model) throw new UnknownModelError(request.params.id, models.map((m) => m.id));
      return model;
    },
  );
};
