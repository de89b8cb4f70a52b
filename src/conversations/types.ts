import type { MessageView } from '../messaging/index.ts';
import type { CallDirection, CallStatus } from '../store/index.ts';

/** One row of a number's conversation list: the other party, its newest message, what is unread. */
export interface ConversationSummary {
  /** The other party: E.164, or an alphanumeric sender ("BANK"). */
  contact: string;
  /** ISO time of the newest message or call with this contact. */
  last_activity: string;
  /** Inbound messages after the read mark. */
  unread_count: number;
  /** When the conversation was last marked read; null when never. */
  last_read_at: string | null;
  /** The newest message (the message view of GET /api/numbers/:id/messages); null when only calls remain. */
  last_message: MessageView | null;
}

/** A message in a thread: the message view, tagged. */
export type MessageEntry = { type: 'message' } & MessageView;

/** A call in a thread, with a bounded summary of its transcript. */
export interface CallEntry {
  type: 'call';
  id: string;
  direction: CallDirection;
  status: CallStatus;
  /** When the call was placed or arrived (it orders the thread). */
  started_at: string;
  /** Whole seconds, once the call has ended; null before, and for a call never connected. */
  duration_s: number | null;
  /** The caller's first words and the agent's last reply, each cut to a bounded length; null without turns. */
  summary: string | null;
}

export type ConversationEntry = MessageEntry | CallEntry;

export interface PageOptions {
  /** next_cursor of the previous page. */
  cursor?: string | undefined;
  /** 1 to 100; 20 when not given. */
  limit?: number | undefined;
}

export interface ConversationList {
  conversations: ConversationSummary[];
  next_cursor: string | null;
}

export interface ConversationThread {
  contact: string;
  /** Newest first. */
  entries: ConversationEntry[];
  next_cursor: string | null;
}

export interface ReadMark {
  contact: string;
  unread_count: 0;
}
