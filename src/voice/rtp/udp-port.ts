import { createSocket, type Socket } from 'node:dgram';
import { AgentPhoneError } from '../../errors/index.ts';

export interface PortRange {
  min: number;
  max: number;
}

/** A bound RTP socket and its RTCP companion on the next (odd) port (RFC 3550 §11). */
export interface RtpSockets {
  rtp: Socket;
  rtcp: Socket;
  port: number;
}

function bind(socket: Socket, host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      socket.off('listening', onListening);
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    };
    const onListening = () => {
      socket.off('error', onError);
      resolve(true);
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind(port, host);
  });
}

/**
 * Binds an even RTP port and the odd RTCP port above it, somewhere in the range, starting at a
 * random pair so concurrent calls rarely collide. Throws when the range is exhausted.
 */
export async function bindRtpPorts(host: string, range: PortRange): Promise<RtpSockets> {
  const first = range.min + (range.min % 2);
  const pairs = Math.floor((range.max - first + 1) / 2);
  if (pairs < 1) throw new AgentPhoneError('RTP_PORTS', `RTP port range ${range.min}-${range.max} holds no even/odd pair`, { status: 503 });
  const start = Math.floor(Math.random() * pairs);
  for (let i = 0; i < pairs; i++) {
    const port = first + 2 * ((start + i) % pairs);
    const rtp = createSocket('udp4');
    if (!(await bind(rtp, host, port))) {
      rtp.close();
      continue;
    }
    const rtcp = createSocket('udp4');
    if (!(await bind(rtcp, host, port + 1))) {
      rtp.close();
      rtcp.close();
      continue;
    }
    return { rtp, rtcp, port };
  }
  throw new AgentPhoneError('RTP_PORTS', `no free RTP port pair in ${range.min}-${range.max}`, { status: 503, retryable: true });
}
