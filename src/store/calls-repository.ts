import { PostgresAdapter, sql, type Kysely, type Selectable } from 'kysely';
import { dbNowMs } from './sql/db-clock.ts';
import type { CallsTable, Database } from './sql/database.ts';

export type CallStatus = 'queued' | 'ringing' | 'in-progress' | 'completed' | 'failed' | 'canceled' | 'refused';
export type CallDirection = 'inbound' | 'outbound';

export interface CallRecord {
  id: string;
  numberId: string;
  direction: CallDirection;
  /** The other party, E.164. */
  contact: string;
  status: CallStatus;
  sipCallId: string | null;
  greeting: string | null;
  instructions: string | null;
  endReason: string | null;
  sipStatus: number | null;
  errorMessage: string | null;
  turns: number;
  durationMs: number | null;
  billableMinutes: number;
  apiKeyId: string | null;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  /** The node the call lives on; null for an outbound call no node has taken yet (a cluster's queue). */
  nodeId: string | null;
}

/** One turn of a call's conversation. */
export interface CallTurnRecord {
  seq: number;
  /** What the caller said ('' for a keypad-only turn). */
  callerText: string;
  dtmf: string | null;
  action: string;
  agentReply: string | null;
  /** Share of the reply the caller heard before talking over it; null when heard to the end (or no reply). */
  heardFraction: number | null;
  createdAt: string;
}

export interface VoiceSettingsRecord {
  numberId: string;
  systemPrompt: string | null;
  greeting: string | null;
  voice: string | null;
}

/** Statuses a call can still leave; completed, failed, canceled and refused are final. */
const LIVE: readonly CallStatus[] = ['queued', 'ringing', 'in-progress'];

function toRecord(r: Selectable<CallsTable>): CallRecord {
  return {
    id: r.id,
    numberId: r.number_id,
    // The CHECK constraints of both schemas hold these to the unions.
    direction: r.direction as CallDirection,
    contact: r.contact,
    status: r.status as CallStatus,
    sipCallId: r.sip_call_id,
    greeting: r.greeting,
    instructions: r.instructions,
    endReason: r.end_reason,
    sipStatus: r.sip_status,
    errorMessage: r.error_message,
    turns: r.turns,
    durationMs: r.duration_ms,
    billableMinutes: r.billable_minutes,
    apiKeyId: r.api_key_id,
    createdAt: r.created_at,
    answeredAt: r.answered_at,
    endedAt: r.ended_at,
    nodeId: r.node_id,
  };
}

/**
 * Calls, one row per call, and each number's voice settings; one implementation for SQLite and
 * PostgreSQL. Every update is limited to live calls: an ended call's record never changes again
 * (a late answer or a turn racing the hangup must not bring it back or add to it), and each is
 * one conditional statement, so the check and the change cannot be split by another writer.
 */
export class CallsRepository {
  private readonly postgres: boolean;

  constructor(private readonly db: Kysely<Database>) {
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async insert(c: Pick<CallRecord, 'id' | 'numberId' | 'direction' | 'contact' | 'status' | 'sipCallId' | 'greeting' | 'instructions' | 'apiKeyId' | 'createdAt'> & { nodeId?: string | null }): Promise<CallRecord> {
    const row = await this.db
      .insertInto('calls')
      .values({
        id: c.id,
        number_id: c.numberId,
        direction: c.direction,
        contact: c.contact,
        status: c.status,
        sip_call_id: c.sipCallId,
        greeting: c.greeting,
        instructions: c.instructions,
        api_key_id: c.apiKeyId,
        created_at: c.createdAt,
        node_id: c.nodeId ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  async get(id: string): Promise<CallRecord | undefined> {
    const row = await this.db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Newest first; `before` is a created_at cursor. */
  async list(numberId: string, opts: { status?: CallStatus; before?: string; limit: number }): Promise<CallRecord[]> {
    let q = this.db.selectFrom('calls').selectAll().where('number_id', '=', numberId);
    if (opts.status !== undefined) q = q.where('status', '=', opts.status);
    if (opts.before !== undefined) q = q.where('created_at', '<', opts.before);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
    return rows.map(toRecord);
  }

  /** Moves a live call to `status`; false when the call has ended (its record is final). */
  async setStatus(id: string, status: CallStatus): Promise<boolean> {
    const res = await this.db.updateTable('calls').set({ status }).where('id', '=', id).where('status', 'in', LIVE).executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }

  async setSipCallId(id: string, sipCallId: string): Promise<boolean> {
    const res = await this.db.updateTable('calls').set({ sip_call_id: sipCallId }).where('id', '=', id).where('status', 'in', LIVE).executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }

  /** Marks a ringing call answered; false when it was already answered or has ended. */
  async markAnswered(id: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('calls')
      .set({ status: 'in-progress', answered_at: at })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'ringing'])
      .executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }

  async countTurn(id: string): Promise<void> {
    await this.db
      .updateTable('calls')
      .set((eb) => ({ turns: eb('turns', '+', 1) }))
      .where('id', '=', id)
      .where('status', 'in', LIVE)
      .execute();
  }

  /**
   * The call when it is still live, its row locked until the transaction ends (PostgreSQL; a
   * SQLite transaction holds the write lock already): a no-op UPDATE … RETURNING, so a read
   * that decides a later write (the minutes of an ending call) cannot race an answer.
   */
  async lockLive(id: string): Promise<CallRecord | undefined> {
    const row = await this.db
      .updateTable('calls')
      .set((eb) => ({ status: eb.ref('status') }))
      .where('id', '=', id)
      .where('status', 'in', LIVE)
      .returningAll()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** Ends a live call; false when it had already ended. */
  async end(e: { id: string; status: CallStatus; endReason: string; sipStatus: number | null; errorMessage: string | null; durationMs: number | null; billableMinutes: number; endedAt: string }): Promise<boolean> {
    const res = await this.db
      .updateTable('calls')
      .set({
        status: e.status,
        end_reason: e.endReason,
        sip_status: e.sipStatus,
        error_message: e.errorMessage,
        duration_ms: e.durationMs,
        billable_minutes: e.billableMinutes,
        ended_at: e.endedAt,
      })
      .where('id', '=', e.id)
      .where('status', 'in', LIVE)
      .executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }

  /**
   * Records a turn and counts it on a live call (a turn finishing after the hangup is dropped).
   * Two statements: run it in a transaction (CallLog does) so the count and the row go together.
   * The count comes first: on PostgreSQL it locks the call's row, so two turns of one call
   * cannot both read the same MAX(seq).
   */
  async addTurn(callId: string, t: Omit<CallTurnRecord, 'seq' | 'heardFraction'>): Promise<boolean> {
    const counted = await this.db
      .updateTable('calls')
      .set((eb) => ({ turns: eb('turns', '+', 1) }))
      .where('id', '=', callId)
      .where('status', 'in', LIVE)
      .executeTakeFirst();
    if (counted.numUpdatedRows === 0n) return false;
    const seq = await this.db
      .selectFrom('call_turns')
      .select((eb) => eb.fn.coalesce(eb.fn.max('seq'), sql<number>`0`).as('last'))
      .where('call_id', '=', callId)
      .executeTakeFirstOrThrow();
    await this.db
      .insertInto('call_turns')
      .values({ call_id: callId, seq: seq.last + 1, caller_text: t.callerText, dtmf: t.dtmf, action: t.action, agent_reply: t.agentReply, created_at: t.createdAt })
      .execute();
    return true;
  }

  /** The caller talked over the latest reply after hearing this share of it. */
  async setHeardFraction(callId: string, fraction: number): Promise<void> {
    await this.db
      .updateTable('call_turns')
      .set({ heard_fraction: fraction })
      .where('call_id', '=', callId)
      .where((eb) =>
        eb.and([
          eb.exists(eb.selectFrom('calls').select(sql`1`.as('one')).where('calls.id', '=', callId).where('calls.status', 'in', LIVE)),
          eb(
            'seq',
            '=',
            eb.selectFrom('call_turns as latest').select((s) => s.fn.max('latest.seq').as('seq')).where('latest.call_id', '=', callId).where('latest.agent_reply', 'is not', null),
          ),
        ]),
      )
      .execute();
  }

  async turns(callId: string): Promise<CallTurnRecord[]> {
    const rows = await this.db
      .selectFrom('call_turns')
      .select(['seq', 'caller_text', 'dtmf', 'action', 'agent_reply', 'heard_fraction', 'created_at'])
      .where('call_id', '=', callId)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({
      seq: r.seq,
      callerText: r.caller_text,
      dtmf: r.dtmf,
      action: r.action,
      agentReply: r.agent_reply,
      heardFraction: r.heard_fraction,
      createdAt: r.created_at,
    }));
  }

  /** Calls a previous process left live (it stopped or crashed mid-call); with a node id, only that node's. */
  async listLive(nodeId?: string): Promise<CallRecord[]> {
    const rows = await this.db
      .selectFrom('calls')
      .selectAll()
      .where('status', 'in', LIVE)
      .$if(nodeId !== undefined, (q) => q.where('node_id', '=', nodeId as string))
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Gives up to `limit` queued outbound calls that no node has taken to `nodeId`, first placed
   * first. One statement; on PostgreSQL the picked rows are locked SKIP LOCKED, so two nodes
   * claiming at once never get the same call (SQLite has one writer at a time).
   */
  async claimQueued(nodeId: string, limit: number): Promise<CallRecord[]> {
    // PostgreSQL: the picked rows in a MATERIALIZED CTE (as an IN subquery it may be rescanned
    // per updated row, skip the rows just updated and pick more than `limit`).
    const claim = this.postgres
      ? sql<Selectable<CallsTable>>`WITH picked AS MATERIALIZED (
            SELECT id FROM calls WHERE status = 'queued' AND node_id IS NULL AND direction = 'outbound'
            ORDER BY created_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          UPDATE calls SET node_id = ${nodeId}
          FROM picked WHERE calls.id = picked.id AND calls.status = 'queued' AND calls.node_id IS NULL
          RETURNING calls.*`
      : sql<Selectable<CallsTable>>`UPDATE calls SET node_id = ${nodeId}
          WHERE id IN (SELECT id FROM calls WHERE status = 'queued' AND node_id IS NULL AND direction = 'outbound'
                       ORDER BY created_at, id LIMIT ${limit})
          RETURNING *`;
    const res = await claim.execute(this.db);
    return res.rows.map(toRecord).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /** Gives one queued call that no node has taken to `nodeId` (to cancel it); undefined when it was taken or has ended. */
  async claimOne(id: string, nodeId: string): Promise<CallRecord | undefined> {
    const row = await this.db
      .updateTable('calls')
      .set({ node_id: nodeId })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .where('node_id', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Live calls whose node is gone: its row has no heartbeat within `aliveTtlMs` by the database's
   * clock, or no row at all. Calls no node has taken (node_id NULL) are not among them.
   */
  async liveOnDeadNodes(aliveTtlMs: number): Promise<CallRecord[]> {
    const now = dbNowMs(this.postgres ? 'postgres' : 'sqlite');
    const rows = await this.db
      .selectFrom('calls')
      .selectAll()
      .where('status', 'in', LIVE)
      .where('node_id', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('cluster_nodes').select(sql`1`.as('one')).whereRef('cluster_nodes.id', '=', 'calls.node_id').where(sql<boolean>`cluster_nodes.heartbeat_at + ${aliveTtlMs} > ${now}`))),
      )
      .execute();
    return rows.map(toRecord);
  }

  async voiceSettings(numberId: string): Promise<VoiceSettingsRecord | undefined> {
    const r = await this.db.selectFrom('number_voice_settings').select(['number_id', 'system_prompt', 'greeting', 'voice']).where('number_id', '=', numberId).executeTakeFirst();
    return r && { numberId: r.number_id, systemPrompt: r.system_prompt, greeting: r.greeting, voice: r.voice };
  }

  async setVoiceSettings(s: VoiceSettingsRecord, now: string): Promise<void> {
    await this.db
      .insertInto('number_voice_settings')
      .values({ number_id: s.numberId, system_prompt: s.systemPrompt, greeting: s.greeting, voice: s.voice, updated_at: now })
      .onConflict((oc) =>
        oc.column('number_id').doUpdateSet((eb) => ({
          system_prompt: eb.ref('excluded.system_prompt'),
          greeting: eb.ref('excluded.greeting'),
          voice: eb.ref('excluded.voice'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
}
