/** What the agent's 2xx answer asks AgentPhone to do. */
export type WebhookReply =
  | { action: 'respond'; reply: string; media: string[] }
  | { action: 'ignore'; warning?: string };

/**
 * Reads the webhook's answer. `{"action":"respond","reply":…,"media"?:…}` sends a reply;
 * `{"action":"ignore"}` does nothing; anything else is treated as ignore, with a warning.
 */
export function parseWebhookReply(contentType: string | undefined, text: string): WebhookReply {
  if (text.trim() === '') return { action: 'ignore', warning: 'empty response body' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { action: 'ignore', warning: `response is not JSON (${contentType ?? 'no content-type'})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { action: 'ignore', warning: 'response is not a JSON object' };
  }
  const { action, reply, media } = value as Record<string, unknown>;
  if (action === 'ignore') return { action: 'ignore' };
  if (action !== 'respond') return { action: 'ignore', warning: `unknown action ${JSON.stringify(action ?? null)}` };
  const mediaList = Array.isArray(media) ? media.filter((m): m is string => typeof m === 'string') : [];
  const text_ = typeof reply === 'string' ? reply : '';
  if (text_ === '' && mediaList.length === 0) return { action: 'ignore', warning: 'respond without reply or media' };
  return { action: 'respond', reply: text_, media: mediaList };
}
