/**
 * Reads `strace -f -e trace=connect,sendto,sendmsg,bind` output: every socket address a
 * process tree connected to, sent a datagram to, or bound. AF_NETLINK (the kernel) is left out.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface SocketCall {
  pid: number;
  call: 'connect' | 'sendto' | 'sendmsg' | 'bind';
  family: 'inet' | 'inet6' | 'unix';
  /** An IP literal, or a unix socket path (a name-service lookup through nscd shows up as one). */
  address: string;
  port: number | undefined;
  line: string;
}

const HEAD = /^(\d+)\s+(connect|sendto|sendmsg|bind)\(/;
const INET = /sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/;
const INET6 = /sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)"/;
const UNIX = /sa_family=AF_UNIX, sun_path=(@?"[^"]*")/;

export function parseStrace(text: string): SocketCall[] {
  const calls: SocketCall[] = [];
  for (const line of text.split('\n')) {
    const head = HEAD.exec(line);
    if (!head) continue;
    const base = { pid: Number(head[1]), call: head[2] as SocketCall['call'], line };
    const v4 = INET.exec(line);
    const v6 = v4 ? null : INET6.exec(line);
    const unix = v4 || v6 ? null : UNIX.exec(line);
    if (v4) calls.push({ ...base, family: 'inet', address: v4[2] as string, port: Number(v4[1]) });
    else if (v6) calls.push({ ...base, family: 'inet6', address: v6[2] as string, port: Number(v6[1]) });
    else if (unix) calls.push({ ...base, family: 'unix', address: unix[1] as string, port: undefined });
  }
  return calls;
}

export function isLoopback(address: string): boolean {
  if (isIPv4(address)) return address.startsWith('127.');
  if (!isIPv6(address)) return false;
  return address === '::1' || /^::ffff:127\./i.test(address);
}

/** TCP_LISTEN in /proc/net/tcp; an unconnected bound socket (TCP_CLOSE) in /proc/net/udp. */
export const LISTEN = { tcp: '0A', udp: '07' } as const;

/** The local ports of sockets in `state` in this network namespace (/proc/net/tcp, tcp6, udp, udp6). */
export function listeningPorts(procNet: readonly string[], state: string = LISTEN.tcp): Set<number> {
  const ports = new Set<number>();
  for (const text of procNet) {
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== state) continue;
      const port = parseInt((cols[1] ?? '').split(':').pop() ?? '', 16);
      if (Number.isFinite(port)) ports.add(port);
    }
  }
  return ports;
}

/**
 * The calls that left the allowed set: anything not to a loopback address on a port that a
 * listener of the test or the gateway held, and every unix-socket connect (nscd name lookups).
 */
export function unexpectedCalls(calls: readonly SocketCall[], allowedPorts: ReadonlySet<number>): SocketCall[] {
  return calls.filter((c) => {
    if (c.call === 'bind') return false;
    if (c.family === 'unix') return true;
    return !(isLoopback(c.address) && c.port !== undefined && allowedPorts.has(c.port));
  });
}
