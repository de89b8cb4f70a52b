export { ConversationsService, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, SUMMARY_TEXT_CHARS, type ConversationsServiceDeps } from './conversations-service.ts';
export type {
  CallEntry,
  ConversationEntry,
  ConversationList,
  ConversationSummary,
  ConversationThread,
  MessageEntry,
  PageOptions,
  ReadMark,
} from './types.ts';
