import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ApiPrincipal } from '../auth/index.ts';
import { AgentPhoneError } from '../errors/index.ts';
import { toContact } from '../messaging/index.ts';
import { toNumberView } from '../numbers/index.ts';
import type { MessageRecord } from '../store/index.ts';
import type { McpDeps } from './deps.ts';

const SCHEME = 'agentphone://numbers/';
/** Conversations listed per number in resources/list. */
const LISTED_CONVERSATIONS = 100;
/** Resources one session may subscribe to. */
const MAX_SUBSCRIPTIONS = 200;

export function numberUri(numberId: string): string {
  return `${SCHEME}${encodeURIComponent(numberId)}`;
}

export function conversationUri(numberId: string, contact: string): string {
  return `${numberUri(numberId)}/conversations/${encodeURIComponent(contact)}`;
}

/** The number and contact a resource URI names (contact normalised as stored), or undefined. */
export function parseResourceUri(uri: string): { numberId: string; contact?: string } | undefined {
  if (!uri.startsWith(SCHEME)) return undefined;
  const [id, word, contact, ...rest] = uri.slice(SCHEME.length).split('/');
  try {
    if (!id || rest.length > 0) return undefined;
    if (word === undefined) return { numberId: decodeURIComponent(id) };
    if (word !== 'conversations' || !contact) return undefined;
    return { numberId: decodeURIComponent(id), contact: toContact(decodeURIComponent(contact), 'contact') };
  } catch {
    return undefined;
  }
}

function json(uri: string, value: unknown) {
  return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(value) }] };
}

/** A failure reading or subscribing to a resource, as a JSON-RPC error with the REST API's message. */
function resourceError(err: unknown): McpError {
  if (err instanceof McpError) return err;
  if (err instanceof AgentPhoneError && err.status < 500) return new McpError(ErrorCode.InvalidParams, err.message);
  return new McpError(ErrorCode.InternalError, 'An unexpected error occurred');
}

/**
 * Resources for each number the key may use and each of its conversations, and
 * resources/updated notifications for the ones the client subscribed to, sent when a message
 * of that conversation (of that number, for a number) arrives, is sent or changes status.
 * Returns the function that drops the subscriptions when the session ends.
 */
export function registerResources(server: McpServer, deps: McpDeps, principal: ApiPrincipal): () => void {
  const numberOf = (id: string) => deps.numbers.find(id, principal);
  const guarded = async <T>(body: () => T | Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (err) {
      throw resourceError(err);
    }
  };

  server.registerResource(
    'number',
    new ResourceTemplate(`${SCHEME}{number_id}`, {
      list: async () => ({ resources: (await deps.numbers.list(principal)).map((n) => ({ uri: numberUri(n.id), name: n.phoneNumber, title: n.label ?? n.phoneNumber, mimeType: 'application/json' })) }),
    }),
    { title: 'A phone number', description: 'One of your numbers: its phone number, line and status', mimeType: 'application/json' },
    (uri) => guarded(async () => json(uri.href, toNumberView(await numberOf(parseResourceUri(uri.href)?.numberId ?? '')))),
  );

  server.registerResource(
    'conversation',
    new ResourceTemplate(`${SCHEME}{number_id}/conversations/{contact}`, {
      list: async () => ({
        resources: (
          await Promise.all(
            (await deps.numbers.list(principal)).map(async (n) => {
              const { conversations } = await deps.conversations.list(n.id, { limit: LISTED_CONVERSATIONS }, principal);
              return conversations.map((c) => ({ uri: conversationUri(n.id, c.contact), name: `${n.phoneNumber} ↔ ${c.contact}`, mimeType: 'application/json' }));
            }),
          )
        ).flat(),
      }),
    }),
    { title: 'A conversation', description: 'The latest messages between one of your numbers and one contact', mimeType: 'application/json' },
    (uri) =>
      guarded(async () => {
        const parsed = parseResourceUri(uri.href);
        if (!parsed?.contact) throw new McpError(ErrorCode.InvalidParams, `Not a conversation URI: ${uri.href}`);
        return json(uri.href, await deps.conversations.thread(parsed.numberId, parsed.contact, {}, principal));
      }),
  );

  // Canonical URI → the URI as the client subscribed to it (what resources/updated names).
  const subscribed = new Map<string, string>();
  let unsubscribe: (() => void) | undefined;
  const onMessage = (m: MessageRecord) => {
    for (const key of [numberUri(m.numberId), conversationUri(m.numberId, m.contact)]) {
      const uri = subscribed.get(key);
      if (uri !== undefined) void server.server.sendResourceUpdated({ uri }).catch(() => undefined);
    }
  };

  server.server.setRequestHandler(SubscribeRequestSchema, (request) =>
    guarded(async () => {
      const { uri } = request.params;
      const parsed = parseResourceUri(uri);
      if (!parsed) throw new McpError(ErrorCode.InvalidParams, `Unknown resource: ${uri}`);
      // The checks and the set below run in one turn, after the only await.
      const number = await numberOf(parsed.numberId);
      if (subscribed.size >= MAX_SUBSCRIPTIONS) throw new McpError(ErrorCode.InvalidRequest, `At most ${MAX_SUBSCRIPTIONS} subscriptions per session`);
      // On a resync (changes may have been missed) every subscribed resource is said to be updated: the client reads it again.
      unsubscribe ??= deps.events.subscribe(onMessage, () => {
        for (const uri of subscribed.values()) void server.server.sendResourceUpdated({ uri }).catch(() => undefined);
      });
      if (!unsubscribe) throw new McpError(ErrorCode.InternalError, 'Too many subscriptions are open on this gateway; try again shortly');
      subscribed.set(parsed.contact === undefined ? numberUri(number.id) : conversationUri(number.id, parsed.contact), uri);
      return {};
    }),
  );
  server.server.setRequestHandler(UnsubscribeRequestSchema, (request) =>
    guarded(() => {
      const parsed = parseResourceUri(request.params.uri);
      if (parsed) subscribed.delete(parsed.contact === undefined ? numberUri(parsed.numberId) : conversationUri(parsed.numberId, parsed.contact));
      return {};
    }),
  );
  return () => {
    subscribed.clear();
    unsubscribe?.();
    unsubscribe = undefined;
  };
}
