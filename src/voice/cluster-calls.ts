import type { Timer, TimerClock } from '../clock/index.ts';
import { UnavailableError } from '../errors/index.ts';
import { SerialPass } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { CallRecord, CallsRepository, NumberRecord } from '../store/index.ts';
import { recordOutboundCall, type CallControl, type CallIntakeDeps, type OutboundCallInput } from './call-intake.ts';
import type { CallManager } from './call-manager.ts';

/** The hints this node sends the cluster's nodes (itself included) over the bus. */
export interface CallHints {
  /** A call was queued: voice nodes, claim it. */
  call(): void;
  /** The node the call lives on, end it. */
  hangup(callId: string): void;
}

export interface ClusterCallsDeps extends CallIntakeDeps {
  nodeId: string;
  /** On the store's root executor (every change is one statement). */
  calls: CallsRepository;
  /** Absent on a node without voice: it queues calls and cancels unclaimed ones, never dials. */
  manager: CallManager | undefined;
  numbers: { get(id: string): Promise<NumberRecord> | NumberRecord };
  hints: CallHints;
  /** Whether some live node of the cluster has voice configured (its registration says so). */
  voiceNodes(): Promise<boolean>;
  /** A node silent this long is dead (cluster.leaseMs): the calls it had are ended. */
  aliveTtlMs: number;
  /** How often the queue and the dead nodes' calls are looked at without a hint. */
  pollMs: number;
  clock: TimerClock;
  logger: Logger;
  /** Calls claimed per statement. */
  claimBatch?: number;
  /** How long a hangup of a call on another node waits to see it end before answering. */
  hangupWaitMs?: number;
}

const LIVE = new Set<CallRecord['status']>(['queued', 'ringing', 'in-progress']);

/**
 * Calls on a cluster (PostgreSQL): the database is the rendezvous. Any node accepts a call, checks
 * it (E.164, opt-out, minutes) and stores it queued with no node; every node with voice claims
 * queued calls (one statement, SKIP LOCKED: each call is taken once) and dials them, woken by the
 * `call` hint or its poll. A hangup on any node reaches the call's node by the `hangup:<id>` hint;
 * a call no node has taken yet is canceled where the hangup arrives. Calls left live on a node
 * that died (no heartbeat for aliveTtlMs) are ended 'node_lost' by whichever node sees it first.
 */
export class ClusterCalls implements CallControl {
  private timer: Timer | undefined;
  private stopped = false;
  /** One claim at a time; a hint meanwhile makes one more. */
  private readonly claims = new SerialPass(
    () => this.claimAll(),
    (err) => this.log.warn({ err }, 'claiming queued calls failed; the next hint or poll tries again'),
  );
  /** Claimed here and not yet handed to the manager, and the hangups asked for meanwhile. */
  private readonly inHand = new Set<string>();
  private readonly hangupAsked = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly deps: ClusterCallsDeps) {
    this.log = deps.logger.child({ mod: 'voice' });
  }

  /** Starts the poll and takes what is queued already. */
  start(): void {
    this.kick();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.claims.settled();
  }

  async placeCall(number: NumberRecord, input: OutboundCallInput): Promise<CallRecord> {
    if (!this.deps.manager && !(await this.deps.voiceNodes())) {
      throw new UnavailableError('No node of this cluster has voice configured (voice.drachtio in its config)');
    }
    const record = await recordOutboundCall(this.deps, number, input, null);
    this.deps.hints.call();
    return record;
  }

  async hangup(callId: string): Promise<boolean> {
    if (await this.deps.manager?.hangup(callId)) return true;
    const call = await this.deps.calls.get(callId);
    if (!call || !LIVE.has(call.status)) return false;
    // Queued and not taken by any node: take it here, to end it.
    const unclaimed = await this.deps.calls.claimOne(callId, this.deps.nodeId);
    if (unclaimed) {
      const number = await this.deps.numbers.get(unclaimed.numberId);
      await this.deps.log.end(number, callId, { status: 'canceled', reason: 'api_hangup', sipStatus: null });
      return true;
    }
    this.deps.hints.hangup(callId);
    return this.waitEnded(callId);
  }

  /** The `call` hint (or a resync): claim what is queued, if this node can dial. */
  kick(): void {
    if (!this.deps.manager || this.stopped) return;
    this.claims.run();
  }

  /** The `hangup:<id>` hint: ends the call when it lives on this node. */
  async hangupHere(callId: string): Promise<void> {
    if (await this.deps.manager?.hangup(callId)) return;
    if (this.inHand.has(callId)) this.hangupAsked.add(callId);
  }

  private async claimAll(): Promise<void> {
    const manager = this.deps.manager as CallManager;
    const batch = this.deps.claimBatch ?? 10;
    for (;;) {
      if (this.stopped || !manager.canDial()) return;
      const claimed = await this.deps.calls.claimQueued(this.deps.nodeId, batch);
      for (const record of claimed) this.inHand.add(record.id);
      for (const record of claimed) {
        try {
          manager.dialOut(record, await this.deps.numbers.get(record.numberId));
        } catch (err) {
          this.log.error({ err, call: record.id }, 'a claimed call could not be dialled');
        } finally {
          this.inHand.delete(record.id);
        }
        if (this.hangupAsked.delete(record.id)) await manager.hangup(record.id);
      }
      if (claimed.length < batch) return;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.kick();
      this.reapLost()
        .catch((err: unknown) => this.log.warn({ err }, 'ending the calls of dead nodes failed; the next poll tries again'))
        .finally(() => this.schedule());
    }, this.deps.pollMs);
  }

  /**
   * Ends the calls whose node died: their media and SIP dialog died with it. An answered call
   * ends completed and is billed up to now; one not answered ends failed. Ending is once-only,
   * so nodes reaping together end each call once.
   */
  private async reapLost(): Promise<void> {
    for (const call of await this.deps.calls.liveOnDeadNodes(this.deps.aliveTtlMs)) {
      // This node's own calls are its manager's, even while its heartbeat lags.
      if (call.nodeId === this.deps.nodeId || this.stopped) continue;
      const number = await this.deps.numbers.get(call.numberId);
      const ended = await this.deps.log.end(number, call.id, { status: call.answeredAt ? 'completed' : 'failed', reason: 'node_lost' });
      if (ended) this.log.warn({ call: call.id, node: call.nodeId }, 'call ended: the node it lived on is dead');
    }
  }

  /** Waits, up to hangupWaitMs, for a call's node to end it; true when it has ended. */
  private async waitEnded(callId: string): Promise<boolean> {
    const deadline = this.deps.clock.now() + (this.deps.hangupWaitMs ?? 2000);
    for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 400)) {
      const call = await this.deps.calls.get(callId);
      if (!call || !LIVE.has(call.status)) return true;
      const left = deadline - this.deps.clock.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => this.deps.clock.setTimeout(resolve, Math.min(delayMs, left)));
    }
  }
}
