/** One webhook POST. */
export interface WebhookRequest {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface WebhookResponse {
  status: number;
  contentType: string | undefined;
  retryAfterS: number | undefined;
  text: string;
}

/** The port to the outside world; throws WebhookTransportError on timeout or connection failure. */
export type HttpPost = (request: WebhookRequest) => Promise<WebhookResponse>;

export class WebhookTransportError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'WebhookTransportError';
  }
}

/** Largest response body read from an agent (an inline reply is small). */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** The real adapter: Node's fetch with a deadline that covers the whole exchange. */
export const fetchPost: HttpPost = async (request) => {
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const res = await fetch(request.url, { method: 'POST', body: request.body, headers: request.headers, signal, redirect: 'manual' });
    const text = (await res.text()).slice(0, MAX_RESPONSE_BYTES);
    const retryAfter = res.headers.get('retry-after');
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? undefined,
      retryAfterS: retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined,
      text,
    };
  } catch (err) {
    if (signal.aborted) throw new WebhookTransportError(`no answer within ${request.timeoutMs} ms`, true);
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new WebhookTransportError(cause ? `connection failed (${cause})` : 'connection failed', false);
  }
};
