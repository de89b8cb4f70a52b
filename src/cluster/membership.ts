import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { TimerClock, Timer } from '../clock/index.ts';
import type { SqlDialect } from '../store/index.ts';
import type { ClusterNode, LeasesRepository, NodeRegistration } from './leases-repository.ts';

/**
 * A node silent this long is dropped from the cluster's list (a dead node is shown until then):
 * a box whose host name changes at every start (a container) would otherwise leave one row per
 * start behind.
 */
export const FORGET_DEAD_NODE_MS = 24 * 60 * 60 * 1000;

export interface ClusterNodeOptions {
  repo: LeasesRepository;
  dialect: SqlDialect;
  node: NodeRegistration;
  heartbeatMs: number;
  leaseMs: number;
  /** The lines this node drives (its modems and virtual lines), asked at every beat. */
  lines: () => readonly string[];
  clock: TimerClock;
  logger: Logger;
  metrics?: Registry;
  /** Told after a beat that changed which lines this node holds (to wake the senders). */
  onLeasesChanged?: () => void;
}

export interface ClusterNodeView {
  id: string;
  host: string;
  alive: boolean;
  /** Since its last heartbeat, by the database's clock as of this node's last beat. */
  heartbeatAgeMs: number;
  lines: string[];
}

/** This node's view of the cluster, as of its last beat (what /healthz and the dashboard show). */
export interface ClusterView {
  node: string;
  store: SqlDialect;
  /** The last beat reached the store. */
  connected: boolean;
  /** Lines this node drives whose lease another live node holds (not driven from here). */
  leasedElsewhere: { line: string; node: string }[];
  nodes: ClusterNodeView[];
}

/**
 * This gateway's membership of the cluster: it registers the node, takes a lease on every line
 * it drives, and beats every `heartbeatMs` (heartbeat, lease renewal, leases for lines that
 * appeared or lapsed elsewhere, the cluster view). A stop releases its lines so another node can
 * take them at once; a node that dies loses them when its leases lapse (`leaseMs`).
 */
export class ClusterMembership {
  private timer: Timer | undefined;
  private stopped = false;
  private beating: Promise<void> | undefined;
  private held = new Set<string>();
  private snapshot: ClusterView;
  private readonly gauges: { alive: Gauge; held: Gauge } | undefined;

  private constructor(private readonly o: ClusterNodeOptions) {
    this.snapshot = { node: o.node.id, store: o.dialect, connected: false, leasedElsewhere: [], nodes: [] };
    this.gauges = o.metrics && {
      alive: new Gauge({ name: 'agentphone_cluster_nodes_alive', help: 'Nodes of the cluster whose heartbeat is current, as this node last saw them', registers: [o.metrics] }),
      held: new Gauge({ name: 'agentphone_cluster_lines_leased', help: 'Lines whose lease this node holds', registers: [o.metrics] }),
    };
  }

  /** Registers the node (refused while a live node on another host has the id) and takes its first beat. */
  static async start(o: ClusterNodeOptions): Promise<ClusterMembership> {
    const m = new ClusterMembership(o);
    await o.repo.registerNode(o.node, o.leaseMs);
    await m.beat();
    m.schedule();
    return m;
  }

  view(): ClusterView {
    return this.snapshot;
  }

  /** Whether this node held the line's lease at its last beat. */
  holds(lineId: string): boolean {
    return this.held.has(lineId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.beating;
    try {
      await this.o.repo.removeNode(this.o.node.id);
    } catch (err) {
      this.o.logger.warn({ err: errorText(err) }, 'cluster: could not deregister this node; its leases lapse in cluster.leaseMs');
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
        this.schedule();
      });
    }, this.o.heartbeatMs);
  }

  private async beat(): Promise<void> {
    const { repo, node, leaseMs, logger } = this.o;
    try {
      if (!(await repo.heartbeat(node.id))) {
        // Our row went (removed by an operator, or taken over after we were presumed dead).
        logger.warn({ node: node.id }, 'cluster: this node was no longer registered; registering again');
        await repo.registerNode(node, leaseMs);
      }
      const held = new Set(await repo.renewAll(node.id, leaseMs));
      const elsewhere: { line: string; node: string }[] = [];
      for (const line of this.o.lines()) {
        if (held.has(line)) continue;
        const got = await repo.acquireLine(line, node.id, leaseMs);
        if (got.held) {
          held.add(line);
          logger.info({ line, epoch: got.epoch }, 'cluster: line leased to this node');
        } else {
          elsewhere.push({ line, node: got.owner });
        }
      }
      for (const line of this.held) if (!held.has(line)) logger.warn({ line }, 'cluster: this node lost the lease on a line');
      const changed = held.size !== this.held.size || [...held].some((l) => !this.held.has(l));
      this.held = held;
      if (changed) this.o.onLeasesChanged?.();
      const listed = await repo.listNodes(leaseMs);
      // The database's clock as of this beat: our own heartbeat was just written with it.
      const dbNow = listed.find((n) => n.id === node.id)?.heartbeatAtMs ?? Math.max(0, ...listed.map((n) => n.heartbeatAtMs));
      const nodes: ClusterNode[] = [];
      for (const n of listed) {
        if (!n.alive && dbNow - n.heartbeatAtMs > FORGET_DEAD_NODE_MS) await repo.removeNode(n.id);
        else nodes.push(n);
      }
      this.snapshot = {
        node: node.id,
        store: this.o.dialect,
        connected: true,
        leasedElsewhere: elsewhere,
        nodes: await Promise.all(nodes.map(async (n) => this.nodeView(n, dbNow))),
      };
      this.gauges?.alive.set(nodes.filter((n) => n.alive).length);
      this.gauges?.held.set(held.size);
    } catch (err) {
      if (this.snapshot.connected) logger.error({ err: errorText(err) }, 'cluster: heartbeat failed; this node keeps its lines until their leases lapse');
      this.snapshot = { ...this.snapshot, connected: false };
    }
  }

  private async nodeView(n: ClusterNode, dbNow: number): Promise<ClusterNodeView> {
    const lines = n.id === this.o.node.id ? [...this.held] : (await this.o.repo.leasesOf(n.id)).map((l) => l.lineId);
    return { id: n.id, host: n.host, alive: n.alive, heartbeatAgeMs: Math.max(0, dbNow - n.heartbeatAtMs), lines: lines.sort() };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
