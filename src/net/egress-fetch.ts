/** A fetch() whose connections go through the egress gate (webhooks and upstream engines use it). */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { guardedRequest, urlOptions, type AddressGate, type Refusal } from './guarded-request.ts';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

const NULL_BODY = new Set([204, 205, 304]);

function responseOf(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 0;
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const empty = NULL_BODY.has(status) || method === 'HEAD';
  if (empty) res.resume();
  const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(body as globalThis.ReadableStream<Uint8Array> | null, { status, statusText: res.statusMessage ?? '', headers });
}

function bodyOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  throw new TypeError('egress fetch sends string or byte bodies only');
}

/** fetch(url, init) over guardedRequest: no redirects followed, the signal aborts request and body. */
export function egressFetch(gate: AddressGate, refuse: Refusal): FetchLike {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`cannot fetch ${url.protocol} URLs`);
      const method = (init.method ?? 'GET').toUpperCase();
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const body = bodyOf(init.body);
      if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const req = guardedRequest(url.protocol, { ...urlOptions(url), method, headers, ...(init.signal && { signal: init.signal }) }, gate, refuse, (res) => {
        try {
          resolve(responseOf(res, method));
        } catch (err) {
          res.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      req.on('error', reject);
      req.end(body);
    });
}
