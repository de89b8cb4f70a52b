import { sql, type Kysely, type RawBuilder } from 'kysely';
import { StoreError } from '../errors/index.ts';
import { dbNowMs, type SqlStore } from '../store/index.ts';
import type { LineLeasesTable } from '../store/sql/database.ts';
import type { ClusterTables } from './cluster-tables.ts';

export interface NodeRegistration {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** The AgentPhone release the node runs. */
  readonly version: string;
  /** Anything the node wants others to see (its API address, its lines' ports). */
  readonly info?: Record<string, unknown>;
}

export interface ClusterNode {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAtMs: number;
  readonly heartbeatAtMs: number;
  readonly info: Record<string, unknown>;
  /** Its last heartbeat is within the ttl asked for, by the database's clock. */
  readonly alive: boolean;
}

export interface LineLease {
  readonly lineId: string;
  readonly nodeId: string;
  /** Fencing token: rises with every new tenure; a write carrying an older one is stale. */
  readonly epoch: number;
  readonly leaseUntilMs: number;
  readonly acquiredAtMs: number;
}

export interface LineAcquisition {
  /** The asking node holds the line now. */
  readonly held: boolean;
  /** Who holds it: the asker when held, else the node whose live lease stood in the way. */
  readonly owner: string;
  readonly epoch: number;
  readonly leaseUntilMs: number;
}

/**
 * Cluster membership and line leases, one implementation for SQLite and PostgreSQL. Every time is
 * the database's clock, so nodes agree on expiry whatever their own clocks say. Every change is
 * one statement (atomic on both dialects, and safe on the SQLite handle the gateway shares).
 */
export class LeasesRepository<DB extends ClusterTables = ClusterTables> {
  private readonly db: Kysely<ClusterTables>;
  private readonly now: RawBuilder<number>;

  /** Takes a store whose schema has at least the cluster tables (the gateway's has them all). */
  constructor(store: SqlStore<DB>) {
    // Kysely<DB> is invariant in DB; its table types exist only at compile time, so seeing the
    // same instance with just the cluster tables is a view, not a conversion.
    this.db = store.db as unknown as Kysely<ClusterTables>;
    this.now = dbNowMs(store.dialect);
  }

  /**
   * Records the node as started now. A row under the same id is taken over when it comes from the
   * same host (a restart) or has missed heartbeats for aliveTtlMs; a live node elsewhere keeps it.
   */
  async registerNode(node: NodeRegistration, aliveTtlMs: number): Promise<void> {
    checkTtl(aliveTtlMs);
    const row = await this.db
      .insertInto('cluster_nodes')
      .values({
        id: node.id,
        host: node.host,
        pid: node.pid,
        version: node.version,
        started_at: this.now,
        heartbeat_at: this.now,
        info: JSON.stringify(node.info ?? {}),
      })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            host: eb.ref('excluded.host'),
            pid: eb.ref('excluded.pid'),
            version: eb.ref('excluded.version'),
            started_at: eb.ref('excluded.started_at'),
            heartbeat_at: eb.ref('excluded.heartbeat_at'),
            info: eb.ref('excluded.info'),
          }))
          .where(sql<boolean>`cluster_nodes.host = excluded.host or cluster_nodes.heartbeat_at + ${aliveTtlMs} <= excluded.heartbeat_at`),
      )
      .returning('id')
      .executeTakeFirst();
    if (!row) {
      throw new StoreError(`Cluster node id ${node.id} is in use by a live node on another host; give each node its own id`, { status: 409 });
    }
  }

  /** Marks the node alive now; false when its row is gone (removed as dead: register again). */
  async heartbeat(nodeId: string): Promise<boolean> {
    const res = await this.db.updateTable('cluster_nodes').set({ heartbeat_at: this.now }).where('id', '=', nodeId).executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Every node, alive when its last heartbeat is under aliveTtlMs old. */
  async listNodes(aliveTtlMs: number): Promise<ClusterNode[]> {
    checkTtl(aliveTtlMs);
    const rows = await this.db
      .selectFrom('cluster_nodes')
      .selectAll()
      .select(this.now.as('now_ms'))
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      version: r.version,
      startedAtMs: r.started_at,
      heartbeatAtMs: r.heartbeat_at,
      info: parseInfo(r.id, r.info),
      alive: r.heartbeat_at + aliveTtlMs > r.now_ms,
    }));
  }

  /** Drops the node and frees its lines (their epochs kept, so the next holder's is higher). */
  async removeNode(nodeId: string): Promise<boolean> {
    await this.db.updateTable('line_leases').set({ lease_until: 0 }).where('node_id', '=', nodeId).execute();
    const res = await this.db.deleteFrom('cluster_nodes').where('id', '=', nodeId).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /**
   * Takes or renews the line's lease for ttlMs: inserted when the line has none, renewed when the
   * node holds it, taken over when the holder's lease has run out, refused otherwise. One
   * INSERT … ON CONFLICT DO UPDATE … WHERE, so of two nodes racing exactly one gets it. The epoch
   * rises with every new tenure (a take-over, or a return after the lease ran out or was released).
   */
  async acquireLine(lineId: string, nodeId: string, ttlMs: number): Promise<LineAcquisition> {
    checkTtl(ttlMs);
    // excluded.acquired_at is this statement's "now": one reading of the clock for every comparison.
    const liveAndOurs = sql<boolean>`line_leases.node_id = excluded.node_id and line_leases.lease_until > excluded.acquired_at`;
    const won = await this.db
      .insertInto('line_leases')
      .values({ line_id: lineId, node_id: nodeId, lease_until: this.later(ttlMs), acquired_at: this.now, epoch: 1 })
      .onConflict((oc) =>
        oc
          .column('line_id')
          .doUpdateSet((eb) => ({
            node_id: eb.ref('excluded.node_id'),
            lease_until: eb.ref('excluded.lease_until'),
            acquired_at: sql<number>`case when ${liveAndOurs} then line_leases.acquired_at else excluded.acquired_at end`,
            epoch: sql<number>`case when ${liveAndOurs} then line_leases.epoch else line_leases.epoch + 1 end`,
          }))
          .where(sql<boolean>`line_leases.node_id = excluded.node_id or line_leases.lease_until <= excluded.acquired_at`),
      )
      .returning(['node_id', 'epoch', 'lease_until'])
      .executeTakeFirst();
    if (won) return { held: true, owner: won.node_id, epoch: won.epoch, leaseUntilMs: won.lease_until };
    // Refused: the row exists and was live; report whose it is (it may have changed since).
    const holder = await this.db
      .selectFrom('line_leases')
      .select(['node_id', 'epoch', 'lease_until'])
      .where('line_id', '=', lineId)
      .executeTakeFirstOrThrow(() => new StoreError(`Lease on line ${lineId} vanished while being acquired`));
    return { held: false, owner: holder.node_id, epoch: holder.epoch, leaseUntilMs: holder.lease_until };
  }

  /**
   * Extends every live lease the node holds by ttlMs; returns the lines it still holds. A lease
   * that ran out is not revived (another node may have it; the node must acquire it again).
   */
  async renewAll(nodeId: string, ttlMs: number): Promise<string[]> {
    checkTtl(ttlMs);
    const rows = await this.db
      .updateTable('line_leases')
      .set({ lease_until: this.later(ttlMs) })
      .where('node_id', '=', nodeId)
      .where(sql<boolean>`lease_until > ${this.now}`)
      .returning('line_id')
      .execute();
    return rows.map((r) => r.line_id).sort();
  }

  /** Frees the line when the node holds it; false when it did not (nothing changed). */
  async release(lineId: string, nodeId: string): Promise<boolean> {
    const res = await this.db
      .updateTable('line_leases')
      .set({ lease_until: 0 })
      .where('line_id', '=', lineId)
      .where('node_id', '=', nodeId)
      .where(sql<boolean>`lease_until > ${this.now}`)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** The line's live lease, or undefined when nobody holds it. */
  async owner(lineId: string): Promise<LineLease | undefined> {
    const row = await this.live().where('line_id', '=', lineId).executeTakeFirst();
    return row && toLease(row);
  }

  /** The node's live leases, by line id. */
  async leasesOf(nodeId: string): Promise<LineLease[]> {
    const rows = await this.live().where('node_id', '=', nodeId).orderBy('line_id').execute();
    return rows.map(toLease);
  }

  private live() {
    return this.db
      .selectFrom('line_leases')
      .selectAll()
      .where(sql<boolean>`lease_until > ${this.now}`);
  }

  private later(ttlMs: number): RawBuilder<number> {
    return sql<number>`${this.now} + ${ttlMs}`;
  }
}

function toLease(r: LineLeasesTable): LineLease {
  return { lineId: r.line_id, nodeId: r.node_id, epoch: r.epoch, leaseUntilMs: r.lease_until, acquiredAtMs: r.acquired_at };
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new StoreError(`A lease or liveness ttl must be a positive whole number of ms, not ${ttlMs}`);
}

function parseInfo(nodeId: string, text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new StoreError(`Cluster node ${nodeId} has info that is not a JSON object`);
}
