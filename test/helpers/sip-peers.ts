import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

/*
 * Real SIP peers for the voice suite: a drachtio-server (the one in ../shared/tools/drachtio,
 * started on free loopback ports, or an operator's own through AGENTPHONE_TEST_DRACHTIO) and
 * Debian's sipp. Peers always run as child processes spawned asynchronously: a synchronous
 * spawn would stop the event loop of the gateway under test, so the INVITE could never be
 * answered.
 */

const RUN_DRACHTIO = fileURLToPath(new URL('../../../shared/tools/drachtio/run-drachtio', import.meta.url));

/** True when `name` is on PATH (Debian's `sipp -v` exits 99, so exit codes prove nothing). */
export function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface DrachtioServer {
  host: string;
  port: number;
  secret: string;
  /** host:port of its SIP side (UDP and TCP). */
  sip: string;
  /** Stops the server this suite started (by pid); a no-op for an operator's own. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

/** What a drachtio-server for the suite needs, or undefined when one can be had. */
export function drachtioUnavailable(): string | undefined {
  if (process.env.AGENTPHONE_TEST_DRACHTIO) return undefined;
  if (!existsSync(RUN_DRACHTIO)) return `a drachtio-server (${RUN_DRACHTIO} or AGENTPHONE_TEST_DRACHTIO=host:port:secret)`;
  const probe = spawnSync(RUN_DRACHTIO.replace(/run-drachtio$/, 'drachtio'), ['--version'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.status !== 0) return 'the runtime libraries of drachtio-server (../shared/tools/drachtio/ensure-runtime-packages)';
  return undefined;
}

/** An operator's drachtio-server from the environment, or a fresh one on free loopback ports. */
export async function startDrachtio(): Promise<DrachtioServer> {
  const given = process.env.AGENTPHONE_TEST_DRACHTIO;
  if (given) {
    const [host, port, secret] = given.split(':') as [string, string, string];
    const sip = process.env.AGENTPHONE_TEST_DRACHTIO_SIP ?? `${host}:5060`;
    return { host, port: Number(port), secret, sip, stop: async () => undefined, kill: async () => undefined };
  }
  const adminPort = await freePort();
  const sipPort = await freePort();
  const secret = 'cymru';
  const child = spawn(RUN_DRACHTIO, [String(adminPort), secret, String(sipPort), 'notice'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  await waitForPort(adminPort, child, () => output);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    await exited;
  };
  return { host: '127.0.0.1', port: adminPort, secret, sip: `127.0.0.1:${sipPort}`, stop: () => signal('SIGTERM'), kill: () => signal('SIGKILL') };
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`drachtio-server exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`drachtio-server did not listen on ${port}: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface PeerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Peers still running: a test that ends early (a failure, a peer waiting for a BYE that never comes) must not leave them behind. */
const running = new Set<ChildProcess>();

/** Kills every peer still running (useCleanup does after each test; also at exit). */
export function killPeers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
process.once('exit', killPeers);

/** Runs a peer (sipp, baresip) to its end without blocking the event loop. */
export function runPeer(command: string, args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (err) => (clearTimeout(timer), reject(err)));
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}
