import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { ApiPrincipal } from '../../auth/index.ts';
import { MAX_PAGE_LIMIT, type ConversationsService } from '../../conversations/index.ts';
import { principalOf } from '../auth.ts';
import { errorResponses, NumberIdParams } from '../schemas.ts';
import { MessageView } from './messages.ts';

const Page = Type.Object({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: 20 })),
});

const ContactParams = Type.Object({
  id: NumberIdParams.properties.id,
  contact: Type.String({ minLength: 1, maxLength: 64, description: 'The other party: E.164 with its + URL-encoded (%2B15551234567), or an alphanumeric sender' }),
});

const Summary = Type.Object({
  contact: Type.String(),
  last_activity: Type.String({ description: 'ISO time of the newest message or call' }),
  unread_count: Type.Integer({ description: 'Inbound messages after the read mark' }),
  last_read_at: Type.Union([Type.String(), Type.Null()]),
  last_message: Type.Union([MessageView, Type.Null()]),
});

const MessageEntry = Type.Object({ type: Type.Literal('message'), ...MessageView.properties });

const CallEntry = Type.Object({
  type: Type.Literal('call'),
  id: Type.String(),
  direction: Type.String(),
  status: Type.String(),
  started_at: Type.String(),
  duration_s: Type.Union([Type.Integer(), Type.Null()]),
  summary: Type.Union([Type.String(), Type.Null()], { description: "The caller's first words and the agent's last reply, each cut to 160 characters" }),
});

const NextCursor = Type.Union([Type.String(), Type.Null()]);

export interface ConversationsRoutesOptions {
  conversations: ConversationsService;
  /** /api: the API key's scope applies. /admin (the dashboard): the operator sees every number. */
  scope: 'api-key' | 'operator';
}

/** GET …/conversations, GET …/conversations/:contact, POST …/conversations/:contact/read under /api or /admin. */
export const conversationsRoutes: FastifyPluginAsyncTypebox<ConversationsRoutesOptions> = async (app, { conversations, scope }) => {
  const principal = (request: FastifyRequest): ApiPrincipal | undefined => (scope === 'api-key' ? principalOf(request) : undefined);
  const common = {
    tags: [scope === 'api-key' ? 'conversations' : 'dashboard'],
    ...(scope === 'api-key' && { security: [{ bearer: [] }] }),
  };

  app.get(
    '/numbers/:id/conversations',
    {
      schema: {
        ...common,
        summary: "This number's conversations, one per contact, most recent activity first, with unread counts",
        params: NumberIdParams,
        querystring: Page,
        response: { 200: Type.Object({ conversations: Type.Array(Summary), next_cursor: NextCursor }), ...errorResponses },
      },
    },
    async (request) => conversations.list(request.params.id, request.query, principal(request)),
  );

  app.get(
    '/numbers/:id/conversations/:contact',
    {
      schema: {
        ...common,
        summary: 'One conversation, newest first: SMS and MMS both ways, and calls with a summary of their transcript',
        params: ContactParams,
        querystring: Page,
        response: { 200: Type.Object({ contact: Type.String(), entries: Type.Array(Type.Union([MessageEntry, CallEntry]), {
              description: "type 'message': the message view of GET /api/numbers/:id/messages; type 'call': id, direction, status, started_at, duration_s, summary",
            }), next_cursor: NextCursor }), ...errorResponses },
      },
    },
    async (request) => conversations.thread(request.params.id, request.params.contact, request.query, principal(request)),
  );

  app.post(
    '/numbers/:id/conversations/:contact/read',
    {
      schema: {
        ...common,
        summary: "Marks the conversation read: its unread count is 0 until the contact's next message",
        params: ContactParams,
        response: { 200: Type.Object({ contact: Type.String(), unread_count: Type.Literal(0) }), ...errorResponses },
      },
    },
    async (request) => conversations.markRead(request.params.id, request.params.contact, principal(request)),
  );
};
