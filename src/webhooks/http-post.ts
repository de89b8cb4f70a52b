import { AgentPhoneError } from '../errors/index.ts';
import { readBoundedBody } from '../net/index.ts';

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
  /** The body, up to MAX_RESPONSE_BYTES. */
  text: string;
  /** The body went on past MAX_RESPONSE_BYTES; the rest was never read. */
  truncated?: boolean;
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
export const MAX_RESPONSE_BYTES = 256 * 1024;

/** A fetch() as the egress policy's webhook client gives it (src/net). */
export type WebhookFetch = (url: string, init: RequestInit) => Promise<Response>;

/** The real adapter over `fetcher` (the gateway passes the egress-checked one), with a deadline that covers the whole exchange. */
export const httpPost = (fetcher: WebhookFetch): HttpPost => async (request) => {
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const res = await fetcher(request.url, { method: 'POST', body: request.body, headers: request.headers, signal, redirect: 'manual' });
    const declared = Number(res.headers.get('content-length'));
    const { text, over: truncated } =
      Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES
        ? // Said to be too large: not worth a byte.
          (await res.body?.cancel(), { text: '', over: true })
        : await readBoundedBody(res.body, MAX_RESPONSE_BYTES);
    const retryAfter = res.headers.get('retry-after');
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? undefined,
      retryAfterS: retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined,
      text,
      ...(truncated && { truncated }),
    };
  } catch (err) {
    if (signal.aborted) throw new WebhookTransportError(`no answer within ${request.timeoutMs} ms`, true);
    // A refusal by the egress policy says so (its message names the host, never the path).
    if (err instanceof AgentPhoneError) throw new WebhookTransportError(err.message, false);
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
    throw new WebhookTransportError(cause ? `connection failed (${cause})` : 'connection failed', false);
  }
};

/** Node's own fetch, unchecked: for tools and tests that build a dispatcher without a gateway. */
export const fetchPost: HttpPost = httpPost((url, init) => fetch(url, init));
