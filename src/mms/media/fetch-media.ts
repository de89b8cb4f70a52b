/** Outbound media: fetch an agent's URL to a file, with size, time, redirect, type and address limits. */
import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { guardedRequest, urlOptions, type AddressGate } from '../../net/index.ts';
import { ALLOWED_MEDIA_TYPES, extensionOf, normalizeType, sniffType } from './content-types.ts';
import { MediaError } from './media-error.ts';

export interface FetchLimits {
  maxFileBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

/** A fetched file, on disk until the send is done with it. */
export interface FetchedMedia {
  url: string;
  contentType: string;
  name: string;
  path: string;
  size: number;
}

/** What the files of one message may take together; fetches running side by side draw on it. */
export class ByteBudget {
  private left: number;

  constructor(readonly limit: number) {
    this.left = limit;
  }

  /** False (and nothing taken) when `bytes` more would go over. */
  take(bytes: number): boolean {
    if (bytes > this.left) return false;
    this.left -= bytes;
    return true;
  }

  get remaining(): number {
    return this.left;
  }
}

export interface FetchOptions {
  /** Where the body is written (a file of its own, mode 0600). */
  dir: string;
  /** Aborts the fetch (another file of the same message failed). */
  signal?: AbortSignal;
  /** Shared by the files of one message; unlimited when absent. */
  budget?: ByteBudget;
}

/** Connections go through the egress gate: the address checked is the one connected to. */
function get(url: URL, policy: AddressGate, signal: AbortSignal, shown: string): Promise<IncomingMessage> {
  const refuse = (host: string) => new MediaError('MEDIA_FORBIDDEN_ADDRESS', `${shown}: ${host} is or resolves to an address media fetches may not reach (private, loopback or link-local, or outside the egress policy)`);
  return new Promise((resolve, reject) => {
    const req = guardedRequest(url.protocol, { ...urlOptions(url), method: 'GET', signal, headers: { 'user-agent': 'AgentPhone-MMS/1', accept: '*/*' } }, policy, refuse, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** The first bytes are all sniffing needs. */
const HEAD_BYTES = 16;

/**
 * Streams the body into `path`, counting bytes as they arrive: the first byte over the file's
 * or the message's limit ends the download and closes the socket. Returns the size and head.
 */
async function saveBody(res: IncomingMessage, path: string, max: number, budget: ByteBudget | undefined, shown: string): Promise<{ size: number; head: Buffer }> {
  const tooBig = () => new MediaError('MEDIA_TOO_LARGE', `${shown}: larger than the ${max}-byte limit per media file`);
  const overBudget = () => new MediaError('MEDIA_TOO_LARGE', `${shown}: the message's media together are over their ${budget?.limit ?? 0}-byte limit`);
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.destroy();
    throw new MediaError('MEDIA_TOO_LARGE', `${shown}: ${declared} bytes is over the ${max}-byte limit per media file`);
  }
  if (budget && Number.isFinite(declared) && declared > budget.remaining) {
    res.destroy();
    throw overBudget();
  }
  const file = await open(path, 'wx', 0o600);
  let size = 0;
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw tooBig();
      if (budget && !budget.take(chunk.length)) throw overBudget();
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      await file.write(chunk);
    }
  } catch (err) {
    res.destroy();
    throw err;
  } finally {
    await file.close();
  }
  return { size, head };
}

function nameFrom(url: URL, type: string, index: number): string {
  const segment = url.pathname.split('/').pop() ?? '';
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // A malformed escape (%E0) names nothing; the segment is used as it stands.
  }
  const last = decoded.replace(/[^\w.-]/g, '_');
  if (last && /\.\w{2,4}$/.test(last)) return last.slice(-64);
  return `media${index + 1}.${extensionOf(type)}`;
}

/** Fetches one media URL into a file under `opts.dir`, or throws a MediaError that says what was wrong with it. */
export async function fetchMedia(raw: string, index: number, limits: FetchLimits, policy: AddressGate, opts: FetchOptions): Promise<FetchedMedia> {
  const shown = `media[${index}]`;
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const path = join(opts.dir, `${randomBytes(12).toString('base64url')}.part`);
  let written = false;
  try {
    let url = parseUrl(raw, shown);
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MediaError('MEDIA_FETCH_FAILED', `${shown}: only http and https URLs can be fetched`);
      const res = await get(url, policy, signal, shown);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.destroy();
        if (hop >= limits.maxRedirects) throw new MediaError('MEDIA_REDIRECTS', `${shown}: more than ${limits.maxRedirects} redirects`);
        url = parseUrl(res.headers.location, shown, url);
        continue;
      }
      if (status !== 200) {
        res.destroy();
        throw new MediaError('MEDIA_FETCH_FAILED', `${shown}: the server answered HTTP ${status}`, status >= 500 || status === 429);
      }
      written = true;
      const { size, head } = await saveBody(res, path, limits.maxFileBytes, opts.budget, shown);
      const declared = normalizeType(res.headers['content-type']);
      const sniffed = sniffType(head);
      // The bytes win over the header for the binary formats; text keeps its declared type.
      const type = sniffed ?? (declared === 'application/octet-stream' ? '' : declared);
      if (!ALLOWED_MEDIA_TYPES.has(type)) {
        throw new MediaError('MEDIA_TYPE', `${shown}: content type "${type || declared || 'unknown'}" cannot be sent by MMS (JPEG, PNG, GIF, MP4/3GPP, AMR/MP3, vCard and text can)`);
      }
      return { url: url.href, contentType: type, name: nameFrom(url, type, index), path, size };
    }
  } catch (err) {
    if (written) await unlink(path).catch(() => undefined);
    if (err instanceof MediaError) throw err;
    if (timeout.aborted) throw new MediaError('MEDIA_TIMEOUT', `${shown}: not fetched within ${limits.timeoutMs} ms`, true);
    if (err instanceof Error && err.cause instanceof MediaError) throw err.cause;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new MediaError('MEDIA_FETCH_FAILED', `${shown}: could not be fetched (${code})`, true);
  }
}

/** The WHATWG parser, as the API validates with; a URL it refuses is the agent's error, not a crash. */
function parseUrl(raw: string, shown: string, base?: URL): URL {
  try {
    return new URL(raw, base);
  } catch {
    throw new MediaError('MEDIA_FETCH_FAILED', `${shown}: ${base ? 'redirects to' : 'is'} a malformed URL`);
  }
}
