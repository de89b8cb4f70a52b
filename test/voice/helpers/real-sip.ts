import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { FakeInference } from '../../fakes/voice.ts';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort } from '../../helpers/free-port.ts';
import { drachtioUnavailable, killPeers, onPath, runPeer, startDrachtio, type DrachtioServer, type PeerResult } from '../../helpers/sip-peers.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { until } from '../../helpers/wait.ts';
import { WebhookReceiver } from '../../helpers/webhook-receiver.ts';

/*
 * Scaffolding for the real-SIP suites (test/voice/sip/real-*.test.ts): a gateway connected to
 * a real drachtio-server with one IP trunk on loopback (the sipp peer), a webhook receiver on
 * its first number, and a small RTP port range of its own so a test can check that every pair
 * was given back.
 */

/** Why the sipp suites cannot run on this machine (no drachtio-server or no sipp), or undefined. */
export function sippUnavailable(): string | undefined {
  return drachtioUnavailable() ?? (onPath('sipp') ? undefined : 'sipp (Debian sip-tester)');
}

/** Stops what a test pushed after it ends, last pushed first (a gateway before the server it uses). */
export function useCleanup(): Array<() => Promise<void> | void> {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    killPeers();
  });
  return cleanup;
}

/** One drachtio-server for the calling describe block, started before its first test and stopped after its last. */
export function useDrachtioServer(): () => DrachtioServer {
  let server: DrachtioServer | undefined;
  beforeAll(async () => {
    server = await startDrachtio();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('drachtio-server not started (useDrachtioServer belongs inside the describe block)');
    return server;
  };
}

export interface PortRange {
  min: number;
  max: number;
}

/**
 * A small RTP range (4 pairs) picked at random so parallel suites rarely share one; below
 * Linux's ephemeral ports (32768+, where sipp, drachtio and port-0 sockets land) and away from
 * the fixed ranges other voice suites use (40000+), so only the gateway under test binds there.
 */
export function smallRtpRange(): PortRange {
  const min = 20_000 + 8 * randomInt(0, 1500);
  return { min, max: min + 7 };
}

/** True when every port of the range can be bound on 127.0.0.1 right now (no call holds one). */
export async function rtpPortsFree(range: PortRange): Promise<boolean> {
  for (let port = range.min; port <= range.max; port++) {
    const socket = createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (!bound) return false;
  }
  return true;
}

/** Waits until the RTP port pool is full again (sockets close on the next loop turns). */
export function untilRtpPortsFree(range: PortRange, timeoutMs = 5000): Promise<true> {
  return until(async () => (await rtpPortsFree(range)) || undefined, timeoutMs, `RTP ports ${range.min}-${range.max} all free`);
}

export interface SippPeer {
  port: number;
  /** Where -trace_msg writes every message sipp sent and received. */
  messageFile: string;
  done: Promise<PeerResult>;
}

/** sipp running `scenario` on a free loopback port (a UAS waiting for the gateway's INVITE, or a UAC). */
export async function startSipp(dir: string, scenario: string, args: readonly string[] = [], port?: number): Promise<SippPeer> {
  const p = port ?? (await freePort());
  const messageFile = join(dir, `sipp-${p}-messages.log`);
  const done = runPeer('sipp', ['-sf', scenario, '-i', '127.0.0.1', '-p', String(p), '-m', '1', '-timeout', '25s', '-nostdin', '-trace_msg', '-message_file', messageFile, ...args], { cwd: dir, timeoutMs: 40_000 });
  return { port: p, messageFile, done };
}

export interface SipGatewayOptions {
  server: DrachtioServer;
  dataDir: string;
  rtpPorts: PortRange;
  /** Where the trunk sends outbound INVITEs (a sipp UAS); inbound INVITEs come from 127.0.0.1 too. */
  trunkPort?: number;
  /** The drachtio admin endpoint the gateway connects to (a TCP proxy in the connection-loss suite). */
  drachtio?: { host: string; port: number };
}

/** A gateway on the real drachtio-server, with a webhook receiver on its first number. */
export async function startSipGateway(o: SipGatewayOptions) {
  const hooks = new WebhookReceiver();
  const url = await hooks.start();
  const drachtio = o.drachtio ? { host: o.drachtio.host, port: o.drachtio.port } : { host: o.server.host, port: o.server.port };
  const gw = await startTestGateway(
    o.dataDir,
    {
      voice: {
        drachtio: { ...drachtio, secret: o.server.secret },
        trunks: [{ name: 'sipp', host: '127.0.0.1', port: o.trunkPort ?? 5060, transport: 'udp' }],
        mediaAddress: '127.0.0.1',
        rtpBindHost: '127.0.0.1',
        rtpPorts: o.rtpPorts,
        greeting: 'Hello from the gateway.',
        agentDeadlineMs: 3000,
      },
    },
    undefined,
    { voice: { inference: new FakeInference() } },
  );
  const number = await gw.core.numbers.setWebhook(gw.numberA, { url });
  await until(() => gw.voice.manager?.signalingStatus().connected, 10_000, 'voice connected to drachtio');
  return {
    gw,
    hooks,
    number,
    async stop() {
      await gw.stop();
      await hooks.stop();
    },
  };
}
