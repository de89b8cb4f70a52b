/**
 * A gateway node as a real process (`agentphone start --config …`, as an operator runs it) for
 * the cluster tests: its own data dir, port and node id, its own virtual lines, the store on a
 * shared PostgreSQL. It can be killed with SIGKILL and started again on the same data dir and
 * port, as a crashed box coming back.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGatewayProcess, type GatewayProcess } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { until } from '../helpers/wait.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface VirtualLineSpec {
  id: string;
  number: string;
}

export interface NodeSpec {
  /** A directory of its own: the config file and the data dir go there. */
  dir: string;
  nodeId: string;
  databaseUrl: string;
  lines: readonly VirtualLineSpec[];
  /** Virtual network pacing (default: as fast as the line can go). */
  sendsPerMinute?: number;
  latencyMs?: { minMs: number; maxMs: number };
  heartbeatMs?: number;
  leaseMs?: number;
}

export interface HealthView {
  cluster: { node: string; leasedElsewhere: { line: string; node: string }[]; nodes: { id: string; alive: boolean; lines: string[] }[] };
}

/** One node: start(), kill9(), stop(); its HTTP API at `url` while it runs. */
export class NodeProcess {
  readonly url: string;
  private proc: GatewayProcess | undefined;

  private constructor(
    readonly spec: NodeSpec,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const config = {
      adminToken: ADMIN_TOKEN,
      server: { host: '127.0.0.1', port },
      store: { postgres: { url: spec.databaseUrl } },
      cluster: { nodeId: spec.nodeId, heartbeatMs: spec.heartbeatMs ?? 200, leaseMs: spec.leaseMs ?? 1000 },
      virtual: {
        enabled: true,
        lines: spec.lines.map((l) => ({ id: l.id, number: l.number, dialect: 'quectel' })),
        sendsPerMinute: spec.sendsPerMinute ?? 60_000,
        latency: spec.latencyMs ?? { minMs: 1, maxMs: 5 },
        mms: { enabled: false },
      },
      // One client drives every node hard: the per-key rate limit is not under test here.
      rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
    };
    // JSON is YAML: the config file as the gateway reads it.
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
  }

  /** A node on a free port (the same port across restarts). */
  static async create(spec: NodeSpec): Promise<NodeProcess> {
    return new NodeProcess(spec, await freePort());
  }

  private get configFile(): string {
    return join(this.spec.dir, 'agentphone.yaml');
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** Starts the process and waits until it listens and holds its lines (or `holdLines: false`). */
  async start(holdLines = true): Promise<void> {
    const proc = await startGatewayProcess(['--config', this.configFile], { AGENTPHONE_DATA_DIR: join(this.spec.dir, 'data'), AGENTPHONE_LOG_LEVEL: 'warn' });
    this.proc = proc;
    if (!proc.listening) throw new Error(`node ${this.spec.nodeId} did not start:\n${proc.stderr()}`);
    if (holdLines) await until(async () => this.holdsAll(this.spec.lines.map((l) => l.id)), 30_000, `${this.spec.nodeId} to hold its lines`);
  }

  /** Whether this node is alive in the cluster view and holds every one of `lines`. */
  async holdsAll(lines: readonly string[]): Promise<boolean> {
    const health = await this.health().catch(() => undefined);
    const me = health?.cluster.nodes.find((n) => n.id === this.spec.nodeId);
    return me !== undefined && me.alive && lines.every((l) => me.lines.includes(l)) && lines.every((l) => !health?.cluster.leasedElsewhere.some((e) => e.line === l));
  }

  async health(): Promise<HealthView> {
    return (await (await fetch(`${this.url}/healthz`)).json()) as HealthView;
  }

  /** SIGKILL: no shutdown, no lease release, nothing flushed by the process. */
  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** SIGTERM, or SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
    await proc.exited;
    clearTimeout(timer);
  }

  /** Its stderr so far, for failure messages. */
  stderr(): string {
    return this.proc?.stderr() ?? '';
  }

  /** Its JSON log so far (warnings and errors: it runs at log level warn). */
  stdout(): string {
    return this.proc?.stdout() ?? '';
  }

  admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}/admin${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    });
  }

  async adminJson<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.admin(path, init);
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} /admin${path} on ${this.spec.nodeId}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** What a virtual subscriber phone received on this node's virtual network. */
  async inbox(phone: string): Promise<{ from: string; to: string; body: string }[]> {
    return (await this.adminJson<{ messages: { from: string; to: string; body: string }[] }>(`/sim/inbox?phone=${encodeURIComponent(phone)}`)).messages;
  }

  /** A virtual subscriber texts one of this node's lines (202: the virtual network took it). */
  simText(from: string, to: string, body: string): Promise<Response> {
    return this.admin('/sim/text', { method: 'POST', body: JSON.stringify({ from, to, body }) });
  }
}
