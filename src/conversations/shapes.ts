/**
 * The conversation API's JSON shapes, over the message view they carry. They import nothing, so
 * the dashboard (src/dashboard/web, built for the browser) reads the same definitions as the
 * server: types.ts fills them in with the server's MessageView, the dashboard with its own.
 */

/** One row of a number's conversation list: the other party, its newest message, what is unread. */
export interface ConversationSummaryOf<M> {
  /** The other party: E.164, or an alphanumeric sender ("BANK"). */
  contact: string;
  /** ISO time of the newest message or call with this contact. */
  last_activity: string;
  /** Inbound messages after the read mark. */
  unread_count: number;
  /** When the conversation was last marked read; null when never. */
  last_read_at: string | null;
  /** The newest message (the message view of GET /api/numbers/:id/messages); null when only calls remain. */
  last_message: M | null;
}

/** A call in a thread, with a bounded summary of its transcript. */
export interface CallEntryOf<S extends string> {
  type: 'call';
  id: string;
  direction: 'inbound' | 'outbound';
  status: S;
  /** When the call was placed or arrived (it orders the thread). */
  started_at: string;
  /** Whole seconds, once the call has ended; null before, and for a call never connected. */
  duration_s: number | null;
  /** The caller's first words and the agent's last reply, each cut to a bounded length; null without turns. */
  summary: string | null;
}

/** A message in a thread (the message view, tagged) or a call. */
export type ConversationEntryOf<M, S extends string> = ({ type: 'message' } & M) | CallEntryOf<S>;

export interface ConversationListOf<M> {
  conversations: ConversationSummaryOf<M>[];
  next_cursor: string | null;
}

export interface ConversationThreadOf<M, S extends string> {
  contact: string;
  /** Newest first. */
  entries: ConversationEntryOf<M, S>[];
  next_cursor: string | null;
}
