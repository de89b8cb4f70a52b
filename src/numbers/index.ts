export { NumberService, newWebhookSecret, toNumberView, type NumberView } from './number-service.ts';
