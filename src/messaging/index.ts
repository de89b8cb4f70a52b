export { MessageQuery, type MessageListQuery } from './message-query.ts';
export { OutboundDispatcher, type OutboundDispatcherDeps } from './outbound-dispatcher.ts';
export { toContact, toE164 } from './phone.ts';
export type { Notifier, OptOutCheck, SmsTransport, SubmitHooks } from './ports.ts';
export { DEFAULT_REPORT_WINDOW_MS, matchReport, sameRecipient } from './report-matching.ts';
export { SendService, type SendInput, type SendResponse, type SendServiceDeps } from './send-service.ts';
export { aggregateStatus, MessageStatusTracker } from './status-events.ts';
export { decodeCursor, encodeCursor, toMessageView, type MessageView, type PartView } from './views.ts';
export { ReceiveService, type ReceivedPdu, type ReceiveServiceDeps } from './receive-service.ts';
