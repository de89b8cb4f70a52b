import { createServer } from 'node:net';

/**
 * Fails as the real listen would (EADDRINUSE, EACCES, EADDRNOTAVAIL, with syscall 'listen')
 * when `host:port` cannot be bound, before the gateway opens its store and modems for nothing.
 * The gateway's own listen still decides; this only makes the common failures quick.
 */
export function probeListen(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
