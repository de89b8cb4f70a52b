/** Outbound media: fetch an agent's URL with size, time, redirect, type and address limits. */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.ts';
import { ALLOWED_MEDIA_TYPES, extensionOf, normalizeType, sniffType } from './content-types.ts';
import { MediaError } from './media-error.ts';

export interface FetchLimits {
  maxFileBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export interface FetchedMedia {
  url: string;
  contentType: string;
  name: string;
  data: Uint8Array;
}

function guardedLookup(policy: AddressPolicy, shown: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const ok = addresses.filter((a) => policy.permits(hostname, a.address));
      if (ok.length === 0) {
        return callback(new MediaError('MEDIA_FORBIDDEN_ADDRESS', `${shown}: resolves to a private, loopback or link-local address, which media fetches may not reach`), '', 4);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
      const first = ok[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

function get(url: URL, policy: AddressPolicy, signal: AbortSignal, shown: string): Promise<IncomingMessage> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !policy.permits(host, host)) {
    return Promise.reject(new MediaError('MEDIA_FORBIDDEN_ADDRESS', `${shown}: ${host} is a private, loopback or link-local address, which media fetches may not reach`));
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', signal, lookup: guardedLookup(policy, shown), headers: { 'user-agent': 'AgentPhone-MMS/1', accept: '*/*' } }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readBody(res: IncomingMessage, max: number, shown: string): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.destroy();
    throw new MediaError('MEDIA_TOO_LARGE', `${shown}: ${declared} bytes is over the ${max}-byte limit per media file`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      res.destroy();
      throw new MediaError('MEDIA_TOO_LARGE', `${shown}: larger than the ${max}-byte limit per media file`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function nameFrom(url: URL, type: string, index: number): string {
  const last = decodeURIComponent(url.pathname.split('/').pop() ?? '').replace(/[^\w.-]/g, '_');
  if (last && /\.\w{2,4}$/.test(last)) return last.slice(-64);
  return `media${index + 1}.${extensionOf(type)}`;
}

/** Fetches one media URL, or throws a MediaError that says what was wrong with it. */
export async function fetchMedia(raw: string, index: number, limits: FetchLimits, policy: AddressPolicy): Promise<FetchedMedia> {
  const shown = `media[${index}]`;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url = new URL(raw);
  try {
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MediaError('MEDIA_FETCH_FAILED', `${shown}: only http and https URLs can be fetched`);
      const res = await get(url, policy, signal, shown);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hop >= limits.maxRedirects) throw new MediaError('MEDIA_REDIRECTS', `${shown}: more than ${limits.maxRedirects} redirects`);
        url = new URL(res.headers.location, url);
        continue;
      }
      if (status !== 200) {
        res.resume();
        throw new MediaError('MEDIA_FETCH_FAILED', `${shown}: the server answered HTTP ${status}`, status >= 500 || status === 429);
      }
      const data = await readBody(res, limits.maxFileBytes, shown);
      const declared = normalizeType(res.headers['content-type']);
      const sniffed = sniffType(data);
      // The bytes win over the header for the binary formats; text keeps its declared type.
      const type = sniffed ?? (declared === 'application/octet-stream' ? '' : declared);
      if (!ALLOWED_MEDIA_TYPES.has(type)) {
        throw new MediaError('MEDIA_TYPE', `${shown}: content type "${type || declared || 'unknown'}" cannot be sent by MMS (JPEG, PNG, GIF, MP4/3GPP, AMR/MP3, vCard and text can)`);
      }
      return { url: url.href, contentType: type, name: nameFrom(url, type, index), data };
    }
  } catch (err) {
    if (err instanceof MediaError) throw err;
    if (signal.aborted) throw new MediaError('MEDIA_TIMEOUT', `${shown}: not fetched within ${limits.timeoutMs} ms`, true);
    if (err instanceof Error && err.cause instanceof MediaError) throw err.cause;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new MediaError('MEDIA_FETCH_FAILED', `${shown}: could not be fetched (${code})`, true);
  }
}
