import { connect } from 'node:net';

/** Why a TCP connection was not made: no answer within the time, or the socket's error. */
export interface TcpProbeFailure {
  readonly timedOut: boolean;
  readonly message: string;
}

/** Opens a TCP connection to host:port and closes it; resolves null when it connected, else why not. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<TcpProbeFailure | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (failure: TcpProbeFailure | null): void => {
      socket.destroy();
      resolve(failure);
    };
    socket.setTimeout(timeoutMs, () => done({ timedOut: true, message: `no answer within ${timeoutMs} ms` }));
    socket.once('connect', () => done(null));
    socket.once('error', (err) => done({ timedOut: false, message: err.message }));
  });
}
