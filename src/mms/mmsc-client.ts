/**
 * MMS over HTTP (OMA MMS CTR, WAP 2.0): POST to the line's MMSC and GET content locations,
 * through the carrier's MMS proxy, from the modem's data interface or address.
 */
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { AddressPolicy, guardedRequest, type AddressGate } from '../net/index.ts';
import type { MmsTransport } from './mms-transport.ts';
import { MmscError } from './mmsc-error.ts';
import {
  decodeRetrieveConf,
  decodeSendConf,
  encodeMms,
  encodeNotifyRespInd,
  MmsError,
  MMS_CONTENT_TYPE,
  type MmsPdu,
  type MmsStatus,
  type SendConf,
} from './pdu/index.ts';

export interface MmscClientOptions {
  /** The MMSC URL (MMSC in the carrier's APN settings). */
  mmsc: string;
  /** The carrier's MMS proxy, "host:port"; requests then go through it in absolute form. */
  proxy?: string | undefined;
  /** Source address to bind (the modem data interface's address). */
  localAddress?: string | undefined;
  /** Network interface (wwan0, usb0): its IPv4 address is bound; a missing interface means no bearer. */
  interface?: string | undefined;
  timeoutMs: number;
  /** Extra attempts after a retryable failure (default 2). */
  retries?: number;
  retryDelayMs?: number;
  /** Largest response accepted (a retrieved message). */
  maxResponseBytes?: number;
  userAgent?: string;
  /** Which addresses may be connected to (the egress policy's MMSC gate); default: the MMSC's and proxy's hosts, and public addresses. */
  gate?: AddressGate;
}

function bindAddress(o: MmscClientOptions): string | undefined {
  if (o.localAddress) return o.localAddress;
  if (!o.interface) return undefined;
  const addrs = networkInterfaces()[o.interface];
  const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
  if (!v4) throw new MmscError('MMSC_NO_BEARER', `no data bearer: interface ${o.interface} has no IPv4 address (is the modem's MMS APN connected?)`, true);
  return v4.address;
}

/** The hosts this client was configured with, and public addresses (a content location may be on another carrier host). */
function namedGate(o: MmscClientOptions): AddressGate {
  return new AddressPolicy([new URL(o.mmsc).hostname.replace(/^\[|\]$/g, ''), ...(o.proxy ? [o.proxy.split(':')[0] as string] : [])]);
}

export class HttpMmscClient implements MmsTransport {
  readonly kind = 'http' as const;
  private readonly gate: AddressGate;

  constructor(private readonly o: MmscClientOptions) {
    this.gate = o.gate ?? namedGate(o);
  }

  async send(req: MmsPdu): Promise<SendConf> {
    const body = await this.exchange('POST', this.o.mmsc, encodeMms(req));
    try {
      return decodeSendConf(body);
    } catch (err) {
      if (err instanceof MmsError) throw new MmscError('MMSC_BAD_RESPONSE', `the MMSC answered with something that is not an m-send-conf (${err.reason})`, true, err);
      throw err;
    }
  }

  async retrieve(contentLocation: string): Promise<MmsPdu> {
    const body = await this.exchange('GET', contentLocation);
    try {
      return decodeRetrieveConf(body);
    } catch (err) {
      if (err instanceof MmsError) throw new MmscError('MMSC_BAD_RESPONSE', `the MMSC answered with something that is not an m-retrieve-conf (${err.reason})`, true, err);
      throw err;
    }
  }

  async notifyResponse(transactionId: string, status: MmsStatus): Promise<void> {
    await this.exchange('POST', this.o.mmsc, encodeNotifyRespInd({ transactionId, status, reportAllowed: true }));
  }

  private async exchange(method: 'GET' | 'POST', url: string, body?: Uint8Array): Promise<Uint8Array> {
    const attempts = 1 + (this.o.retries ?? 2);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(method, url, body);
      } catch (err) {
        if (!(err instanceof MmscError) || !err.retryable || attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, (this.o.retryDelayMs ?? 1000) * attempt));
      }
    }
  }

  private once(method: 'GET' | 'POST', url: string, body?: Uint8Array): Promise<Uint8Array> {
    const target = new URL(url);
    const local = bindAddress(this.o);
    const headers: Record<string, string | number> = {
      accept: `*/*, ${MMS_CONTENT_TYPE}`,
      'user-agent': this.o.userAgent ?? 'AgentPhone-MMS/1',
      'x-wap-profile': 'http://www.openmobilealliance.org/tech/profiles/UAPROF/ccppschema-20021212#',
    };
    if (body) {
      headers['content-type'] = MMS_CONTENT_TYPE;
      headers['content-length'] = body.length;
    }
    const viaProxy = this.o.proxy !== undefined && target.protocol === 'http:';
    const [proxyHost, proxyPort] = (this.o.proxy ?? '').split(':');
    const options = {
      method,
      headers: viaProxy ? { ...headers, host: target.host } : headers,
      timeout: this.o.timeoutMs,
      ...(local && { localAddress: local }),
      ...(viaProxy
        ? { host: proxyHost, port: Number(proxyPort || 80), path: target.href }
        : { host: target.hostname.replace(/^\[|\]$/g, ''), port: target.port || undefined, path: `${target.pathname}${target.search}` }),
    };
    const max = this.o.maxResponseBytes ?? 2_000_000;
    return new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            res.destroy();
            reject(new MmscError('MMSC_BAD_RESPONSE', `the MMSC response is larger than ${max} bytes`, false));
          } else chunks.push(c);
        });
        res.on('error', (err) => reject(new MmscError('MMSC_UNREACHABLE', `the MMSC connection failed: ${err.message}`, true, err)));
        res.on('end', () => {
          if (status === 413) reject(new MmscError('MMSC_TOO_LARGE', 'the MMSC refused the message as too large for the carrier (HTTP 413)', false));
          else if (status >= 500) reject(new MmscError('MMSC_REFUSED', `the MMSC answered HTTP ${status}`, true));
          else if (status >= 400) reject(new MmscError('MMSC_REFUSED', `the MMSC refused the request (HTTP ${status})`, false));
          else resolve(new Uint8Array(Buffer.concat(chunks)));
        });
      };
      const refuse = (host: string) => new MmscError('MMSC_REFUSED', `the egress policy does not allow MMSC connections to ${host} (see egress.mmsc in the config)`, false);
      let req;
      try {
        req = guardedRequest(viaProxy ? 'http:' : target.protocol, options, this.gate, refuse, onResponse);
      } catch (err) {
        return reject(err);
      }
      req.on('timeout', () => req.destroy(new MmscError('MMSC_TIMEOUT', `no answer from the MMSC within ${this.o.timeoutMs} ms`, true)));
      req.on('error', (err) => {
        if (err instanceof MmscError) reject(err);
        else reject(new MmscError('MMSC_UNREACHABLE', `cannot reach the MMSC${viaProxy ? ' through the MMS proxy' : ''} (${(err as NodeJS.ErrnoException).code ?? err.message})`, true, err));
      });
      req.end(body ? Buffer.from(body.buffer, body.byteOffset, body.length) : undefined);
    });
  }
}
