/**
 * The one place outbound HTTP connections are opened: node:http/https with a `lookup` hook,
 * so the address checked is the address actually connected to (a name that resolves to a
 * forbidden address, or rebinds to one between check and use, is refused at connect time).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

/** Says whether `host`, resolved to `address` (an IP literal), may be connected to. */
export interface AddressGate {
  permits(host: string, address: string): boolean;
}

/** Makes the error a refused connection fails with (each caller has its own error family). */
export type Refusal = (host: string, address: string) => Error;

function guardedLookup(gate: AddressGate, refuse: Refusal): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const ok = addresses.filter((a) => gate.permits(hostname, a.address));
      if (ok.length === 0) return callback(refuse(hostname, addresses[0]?.address ?? ''), '', 4);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
      const first = ok[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

/**
 * Opens one request to `options.host` (a name or an IP literal, brackets allowed) through the
 * gate. An IP literal is checked here (no lookup runs for one) and throws the refusal at once.
 */
export function guardedRequest(
  protocol: string,
  options: RequestOptions,
  gate: AddressGate,
  refuse: Refusal,
  onResponse?: (res: IncomingMessage) => void,
): ClientRequest {
  const host = (options.host ?? options.hostname ?? 'localhost').replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !gate.permits(host, host)) throw refuse(host, host);
  const open = protocol === 'https:' ? httpsRequest : httpRequest;
  return open({ ...options, host, hostname: undefined, lookup: guardedLookup(gate, refuse) }, onResponse);
}

/** The request options of a URL (host, port, path with query), as node:http wants them. */
export function urlOptions(url: URL): RequestOptions {
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    ...(url.port !== '' && { port: Number(url.port) }),
    path: `${url.pathname}${url.search}`,
    ...(url.username !== '' && { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }),
  };
}
