/**
 * The receive path of LIVE calls: a whole gateway in a child process (bench/fuzz/live-gateway.ts)
 * with two answered calls, every input sent as one UDP datagram from a stranger's socket to the
 * first call's RTP or RTCP port. What must hold: the gateway process stays up, both calls stay
 * up, the second keeps receiving the gateway's stream, and malformed datagrams are counted.
 * A failure is reported at the input being sent when it was seen (datagrams are asynchronous:
 * the cause is at most one batch earlier).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { LiveGatewayMessage } from '../live-gateway.ts';
import type { FuzzTarget } from '../target.ts';
import { createTarget as createRtpTarget } from './rtp.ts';

/** Inputs sent between turns of the event loop. */
const BATCH = 64;
/** How often the gateway is asked how its calls are, in inputs. */
const CHECK_EVERY = 4096;

function next(child: ChildProcess, type: LiveGatewayMessage['type']): Promise<LiveGatewayMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: LiveGatewayMessage) => {
      if (m.type !== type) return;
      done();
      resolve(m);
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`the gateway process exited (code ${code}, signal ${signal})`));
    };
    const done = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export async function createTarget(): Promise<FuzzTarget> {
  const child = fork(fileURLToPath(new URL('../live-gateway.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `the gateway process exited (code ${code}, signal ${signal})`));
  const ready = (await next(child, 'ready')) as Extract<LiveGatewayMessage, { type: 'ready' }>;
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  let n = 0;
  let otherPackets = 0;
  let dropped = 0;

  async function health(): Promise<string | undefined> {
    if (exited) return exited;
    child.send({ type: 'health' });
    const h = (await next(child, 'health').catch((err: Error) => ({ type: 'health', problem: err.message, dropped: {}, otherPackets }) as const)) as Extract<LiveGatewayMessage, { type: 'health' }>;
    if (h.problem) return h.problem;
    if (h.otherPackets <= otherPackets) return 'the other call received no packet since the last check';
    otherPackets = h.otherPackets;
    dropped = Object.values(h.dropped).reduce((a, b) => a + b, 0);
    if (process.env.AGENTPHONE_FUZZ_LIVE_DEBUG) process.stderr.write(`live-rtp: ${n} sent, dropped ${JSON.stringify(h.dropped)}, other call ${otherPackets} packets\n`);
    return undefined;
  }

  return {
    name: 'live-rtp',
    corpus: createRtpTarget().corpus,
    async run(input) {
      if (exited) return exited;
      socket.send(input, (n & 3) === 3 ? ready.media.rtcpPort : ready.media.port, ready.media.address);
      n++;
      if (n % CHECK_EVERY === 0) return health();
      if (n % BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
      return undefined;
    },
    expected: () => false,
    check: (result) => (typeof result === 'string' ? result : undefined),
    async close() {
      const problem = await health();
      socket.close();
      if (!exited) {
        child.send({ type: 'stop' });
        await once(child, 'exit');
      }
      if (problem) throw new Error(`live-rtp: ${problem}`);
      if (n >= CHECK_EVERY && dropped === 0) throw new Error('live-rtp: no malformed datagram was counted (are they reaching the gateway?)');
    },
  };
}
