import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../helpers/free-port.ts';

/**
 * A loopback TCP proxy in front of PostgreSQL, to break a client's connection the ways a network
 * does: refuse new connections (server down), or go silent without closing (a partition).
 */
export interface TcpProxy {
  readonly port: number;
  /** Closes the listener and every open connection: connects are refused until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Stops carrying bytes on the connections open now, without closing them; new ones work. */
  blackhole(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const pairs = new Set<[Socket, Socket]>();
  const silenced = new WeakSet<Socket>();
  let server: Server | undefined;

  const carry = (from: Socket, to: Socket) => from.on('data', (d: Buffer) => void (silenced.has(from) || to.write(d)));
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
        const pair: [Socket, Socket] = [client, upstream];
        pairs.add(pair);
        carry(client, upstream);
        carry(upstream, client);
        const drop = () => {
          pairs.delete(pair);
          client.destroy();
          upstream.destroy();
        };
        for (const s of pair) s.on('close', drop).on('error', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = async () => {
    for (const pair of [...pairs]) for (const s of pair) s.destroy();
    pairs.clear();
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    port,
    down,
    up: listen,
    blackhole: () => {
      for (const pair of pairs) for (const s of pair) silenced.add(s);
    },
    close: down,
  };
}
