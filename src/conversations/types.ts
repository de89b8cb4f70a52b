import type { MessageView } from '../messaging/index.ts';
import type { CallStatus } from '../store/index.ts';
import type { CallEntryOf, ConversationEntryOf, ConversationListOf, ConversationSummaryOf, ConversationThreadOf } from './shapes.ts';

export type ConversationSummary = ConversationSummaryOf<MessageView>;
export type MessageEntry = { type: 'message' } & MessageView;
export type CallEntry = CallEntryOf<CallStatus>;
export type ConversationEntry = ConversationEntryOf<MessageView, CallStatus>;
export type ConversationList = ConversationListOf<MessageView>;
export type ConversationThread = ConversationThreadOf<MessageView, CallStatus>;

export interface PageOptions {
  /** next_cursor of the previous page. */
  cursor?: string | undefined;
  /** 1 to 100; 20 when not given. */
  limit?: number | undefined;
}

export interface ReadMark {
  contact: string;
  unread_count: 0;
}
