import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ApiPrincipal } from '../auth/index.ts';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type PageOptions } from '../conversations/index.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import { toContact, toMessageView } from '../messaging/index.ts';
import { isLedgerMonth, ledgerMonth } from '../metering/index.ts';
import { toNumberView } from '../numbers/index.ts';
import type { McpDeps } from './deps.ts';
import { waitForReply } from './reply-waiter.ts';
import { runTool } from './tool-result.ts';

/** wait_for_reply's timeout when none is given. */
const DEFAULT_WAIT_SECONDS = 50;

const numberId = z.string().min(1).max(64).describe('The number to act for (an id from list_numbers)');
const contact = z.string().min(1).max(32).describe('The other party: E.164 (+15559876543) or an alphanumeric sender');
const page = {
  cursor: z.string().max(512).optional().describe('next_cursor of the previous page'),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional().describe(`Entries per page (default ${DEFAULT_PAGE_LIMIT})`),
};

/** The messaging tools: numbers, sending, conversations, waiting for a reply, usage. */
export function registerMessageTools(server: McpServer, deps: McpDeps, principal: ApiPrincipal): void {
  const { logger } = deps;
  // find: on a cluster, a number another node made is read even when its bus hint was lost.
  const numberOf = (id: string) => deps.numbers.find(id, principal);

  server.registerTool(
    'list_numbers',
    { title: 'List numbers', description: 'The phone numbers this API key may use, with their ids.', inputSchema: {}, annotations: { readOnlyHint: true } },
    () => runTool(logger, async () => ({ numbers: (await deps.numbers.list(principal)).map(toNumberView) })),
  );

  server.registerTool(
    'send_sms',
    {
      title: 'Send an SMS or MMS',
      description:
        'Sends a text (or an MMS, with media URLs) from one of your numbers. Give an idempotency_key to make a retry safe: the same key and arguments within 24 h answer the first send again instead of sending twice.',
      inputSchema: {
        number_id: numberId,
        to: z.string().min(1).max(32).describe('E.164 recipient, e.g. +15559876543'),
        body: z.string().max(10_000).optional().describe('Message text; may be empty when media is given'),
        media: z.array(z.string().max(2048)).max(10).optional().describe('Public http(s) media URLs; makes the message an MMS'),
        smart: z.boolean().optional().describe('Replace Unicode look-alikes so the text stays GSM-7 (fewer segments)'),
        idempotency_key: z.string().min(1).max(255).optional().describe('Retries with the same key return the first send'),
      },
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    (args) =>
      runTool(logger, async () => {
        const input = { to: args.to, ...(args.body !== undefined && { body: args.body }), ...(args.media !== undefined && { media: args.media }), smart: args.smart };
        // The send service looks the number up in this node's cache: find brings one it lacks.
        await numberOf(args.number_id);
        const { response, replayed } = await deps.send.send(principal, args.number_id, input, args.idempotency_key);
        return { ...response, replayed };
      }),
  );

  server.registerTool(
    'list_conversations',
    {
      title: 'List conversations',
      description: "A number's conversations (one per contact), most recent first, with paging.",
      inputSchema: { number_id: numberId, ...page },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      runTool(logger, () => deps.conversations.list(args.number_id, pageOf(args), principal)),
  );

  server.registerTool(
    'read_conversation',
    {
      title: 'Read a conversation',
      description: 'The messages (SMS and MMS, both ways) and calls between a number and one contact, newest first, with paging. mark_read: true also marks the conversation read (its unread count drops to 0).',
      inputSchema: { number_id: numberId, contact, ...page, mark_read: z.boolean().optional().describe('Mark the conversation read (default false)') },
    },
    (args) =>
      runTool(logger, async () => {
        const thread = await deps.conversations.thread(args.number_id, args.contact, pageOf(args), principal);
        if (args.mark_read === true) await deps.conversations.markRead(args.number_id, thread.contact, principal);
        return thread;
      }),
  );

  // Below the 60 s most MCP clients give a request by default.
  const defaultWaitS = Math.min(DEFAULT_WAIT_SECONDS, deps.config.maxWaitSeconds);
  server.registerTool(
    'wait_for_reply',
    {
      title: 'Wait for a reply',
      description: `Blocks until the contact writes to the number, then returns that message; returns timed_out: true after timeout_seconds (default ${defaultWaitS}, at most ${deps.config.maxWaitSeconds}). Pass after_message_id (e.g. the send_sms messageId) so a reply that came in before this call still counts. Sends progress notifications while it waits when the request carries a progressToken.`,
      inputSchema: {
        number_id: numberId,
        contact,
        timeout_seconds: z.number().int().min(1).max(3600).optional().describe(`How long to wait (default ${defaultWaitS}, cut to ${deps.config.maxWaitSeconds})`),
        after_message_id: z.string().min(1).max(64).optional().describe('Only replies stored at or after this message count (default: from now)'),
      },
      annotations: { readOnlyHint: true },
    },
    (args, extra) =>
      runTool(logger, async () => {
        const number = await numberOf(args.number_id);
        const who = toContact(args.contact, 'contact');
        let since = new Date(deps.clock.now()).toISOString();
        if (args.after_message_id !== undefined) {
          const after = await deps.messages.get(args.after_message_id);
          if (!after || after.numberId !== number.id) throw new NotFoundError(`Message ${args.after_message_id} not found`);
          since = after.createdAt;
        }
        const timeoutMs = Math.min(args.timeout_seconds ?? defaultWaitS, deps.config.maxWaitSeconds) * 1000;
        // Progress keeps a client that resets its request timeout on progress (the SDK's
        // resetTimeoutOnProgress) waiting past its own limit (60 s by default in the SDK).
        const token = extra._meta?.progressToken;
        const started = Date.now();
        const beat =
          token === undefined
            ? undefined
            : setInterval(() => {
                const progress = Math.round((Date.now() - started) / 1000);
                void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total: timeoutMs / 1000, message: 'waiting for a reply' } }).catch(() => undefined);
              }, Math.min(10_000, Math.max(500, timeoutMs / 4)));
        try {
          const reply = await waitForReply(deps.events, deps.messages, { numberId: number.id, contact: who, since, timeoutMs, signal: extra.signal });
          return reply ? { timed_out: false, reply: toMessageView(reply, number) } : { timed_out: true, reply: null };
        } finally {
          clearInterval(beat);
        }
      }),
  );

  server.registerTool(
    'get_usage',
    {
      title: 'Get usage',
      description: "A number's usage and cost for a month (UTC): SMS segments, voice minutes, overage.",
      inputSchema: { number_id: numberId, month: z.string().max(7).optional().describe('YYYY-MM; this month by default') },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      runTool(logger, async () => {
        const month = args.month ?? ledgerMonth(deps.clock.now());
        if (!isLedgerMonth(month)) throw new ValidationError('month: must be YYYY-MM');
        return deps.ledger.report(await numberOf(args.number_id), month);
      }),
  );
}

function pageOf(args: { cursor?: string | undefined; limit?: number | undefined }): PageOptions {
  return { cursor: args.cursor, limit: args.limit };
}
