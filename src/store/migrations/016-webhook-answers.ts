import type { Migration } from './types.ts';

/**
 * What a webhook endpoint answered to its delivery, 2xx included (`HTTP 200: {"action":…}`, an
 * excerpt of at most 200 characters): `agentphone webhook deliveries` shows it. Failed attempts
 * keep theirs in last_error, as before.
 */
export const migration016: Migration = {
  version: 16,
  name: 'webhook-answers',
  up: `ALTER TABLE outbox ADD COLUMN last_answer TEXT;`,
};
