export { WebhookDispatcher, type TestDelivery, type WebhookDispatcherDeps, type WebhookTarget } from './dispatcher.ts';
export { fetchPost, httpPost, WebhookTransportError, type WebhookFetch, type HttpPost, type WebhookRequest, type WebhookResponse } from './http-post.ts';
export { parseWebhookReply, type WebhookReply } from './reply.ts';
export { DEFAULT_RETRY_POLICY, nextRetryDelayMs, type AttemptOutcome, type RetryPolicy } from './retry-policy.ts';
export {
  signWebhook,
  type CallAnsweredPayload,
  type CallCompletedPayload,
  type CallFailedPayload,
  type CallInboundPayload,
  type CallPayload,
  type CallTurnPayload,
  type ContactOptPayload,
  type InboundPayload,
  type MmsUnfetchablePayload,
  type SignedWebhook,
  type StatusPayload,
  type TestPayload,
  type WebhookPayload,
} from './signer.ts';
