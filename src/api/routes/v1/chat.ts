import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import type { Clock } from '../../../clock/index.ts';
import { AgentPhoneError } from '../../../errors/index.ts';
import type { ChatRequest, ChatRouter, ChatStream } from '../../../inference/runners/llm/index.ts';
import type { KeyUsageMeter } from '../../../metering/index.ts';
import { principalOf } from '../../auth.ts';
import { toErrorResponse, toOpenAiError } from '../../error-handler.ts';
import { openAiErrorResponses } from './error-schema.ts';

export interface ChatRoutesOptions {
  chat: ChatRouter;
  meter: KeyUsageMeter;
  clock: Clock;
}

const ContentPart = Type.Object({ type: Type.String() }, { additionalProperties: true });
const Message = Type.Object(
  {
    role: Type.Union(['system', 'developer', 'user', 'assistant', 'tool', 'function'].map((r) => Type.Literal(r))),
    content: Type.Optional(Type.Union([Type.String(), Type.Array(ContentPart), Type.Null()])),
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** The OpenAI request; fields it does not know are passed on to upstream engines. */
const ChatBody = Type.Object(
  {
    model: Type.Optional(Type.String({ minLength: 1 })),
    messages: Type.Array(Message, { minItems: 1 }),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: -1 })),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 16 }), Type.Null()])),
    seed: Type.Optional(Type.Integer()),
    stream: Type.Optional(Type.Boolean()),
    stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: true }), Type.Null()])),
    repetition_penalty: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: true },
);

/** An AbortSignal that fires when the client goes away before the answer is complete. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client went away'));
  });
  return controller.signal;
}

/** Writes a stream as SSE `data:` events, ending with `data: [DONE]`; a failure mid-way becomes an error event. */
function sse(stream: ChatStream, signal: AbortSignal, onEnd: () => Promise<void>): Readable {
  async function* frames(): AsyncGenerator<string> {
    try {
      for await (const data of stream.events) yield `data: ${data}\n\n`;
      yield 'data: [DONE]\n\n';
    } catch (err) {
      if (signal.aborted) return;
      // The OpenAI SDKs throw an APIError from an event carrying `error`, reading its message and code.
      const res = toErrorResponse(err instanceof AgentPhoneError ? err : new AgentPhoneError('STREAM', 'The stream failed', { status: 500 }));
      yield `data: ${JSON.stringify({ error: toOpenAiError(res).error })}\n\n`;
    } finally {
      stream.close();
      await onEnd();
    }
  }
  return Readable.from(frames(), { objectMode: false });
}

export const chatRoutes: FastifyPluginAsyncTypebox<ChatRoutesOptions> = async (app, { chat, meter, clock }) => {
  app.post(
    '/chat/completions',
    {
      schema: {
        summary: 'Chat completion (OpenAI-compatible; stream: true for SSE)',
        security: [{ bearer: [] }],
        body: ChatBody,
        response: { 200: Type.Unknown({ description: 'chat.completion, or text/event-stream of chat.completion.chunk' }), ...openAiErrorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const backend = chat.get(request.body.model);
      const body = { ...request.body, model: backend.model } as ChatRequest;
      const signal = clientGone(reply);
      if (body.stream !== true) {
        const completion = await backend.complete(body, signal);
        if (completion.usage) await meter.recordChatTokens(principal.keyId, completion.usage.prompt_tokens, completion.usage.completion_tokens, clock.now());
        return reply.send(completion);
      }
      const stream = await backend.stream(body, signal);
      const onEnd = async () => {
        const usage = stream.usage();
        if (usage) await meter.recordChatTokens(principal.keyId, usage.prompt_tokens, usage.completion_tokens, clock.now());
      };
      void reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no');
      return reply.send(sse(stream, signal, onEnd));
    },
  );
};
