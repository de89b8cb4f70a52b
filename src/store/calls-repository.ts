import type { Db } from './db.ts';

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
}

interface CallRow {
  id: string;
  number_id: string;
  direction: CallDirection;
  contact: string;
  status: CallStatus;
  sip_call_id: string | null;
  greeting: string | null;
  instructions: string | null;
  end_reason: string | null;
  sip_status: number | null;
  error_message: string | null;
  turns: number;
  duration_ms: number | null;
  billable_minutes: number;
  api_key_id: string | null;
  created_at: string;
  answered_at: string | null;
  ended_at: string | null;
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
const LIVE = `('queued', 'ringing', 'in-progress')`;

const COLUMNS = `id, number_id, direction, contact, status, sip_call_id, greeting, instructions, end_reason, sip_status,
  error_message, turns, duration_ms, billable_minutes, api_key_id, created_at, answered_at, ended_at`;

function toRecord(r: CallRow): CallRecord {
  return {
    id: r.id,
    numberId: r.number_id,
    direction: r.direction,
    contact: r.contact,
    status: r.status,
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
  };
}

/** Calls, one row per call, and each number's voice settings. */
export class CallsRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO calls (id, number_id, direction, contact, status, sip_call_id, greeting, instructions, api_key_id, created_at)
         VALUES (@id, @numberId, @direction, @contact, @status, @sipCallId, @greeting, @instructions, @apiKeyId, @createdAt)`,
      ),
      byId: db.prepare<[string], CallRow>(`SELECT ${COLUMNS} FROM calls WHERE id = ?`),
      list: db.prepare<[string, string | null, string | null, string | null, string | null, number], CallRow>(
        `SELECT ${COLUMNS} FROM calls WHERE number_id = ? AND (? IS NULL OR status = ?)
           AND (? IS NULL OR created_at < ?) ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      // Every update is limited to live calls: an ended call's record never changes again (a late
      // answer or a turn racing the hangup must not bring it back or add to it).
      status: db.prepare<[CallStatus, string]>(`UPDATE calls SET status = ? WHERE id = ? AND status IN ${LIVE}`),
      sipCallId: db.prepare<[string, string]>(`UPDATE calls SET sip_call_id = ? WHERE id = ? AND status IN ${LIVE}`),
      answered: db.prepare<[string, string]>(`UPDATE calls SET status = 'in-progress', answered_at = ? WHERE id = ? AND status IN ('queued', 'ringing')`),
      turn: db.prepare<[string]>(`UPDATE calls SET turns = turns + 1 WHERE id = ? AND status IN ${LIVE}`),
      end: db.prepare(
        `UPDATE calls SET status = @status, end_reason = @endReason, sip_status = @sipStatus, error_message = @errorMessage,
           duration_ms = @durationMs, billable_minutes = @billableMinutes, ended_at = @endedAt
         WHERE id = @id AND status IN ${LIVE}`,
      ),
      live: db.prepare<[], CallRow>(`SELECT ${COLUMNS} FROM calls WHERE status IN ${LIVE}`),
      addTurn: db.prepare(
        `INSERT INTO call_turns (call_id, seq, caller_text, dtmf, action, agent_reply, created_at)
         SELECT @callId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM call_turns WHERE call_id = @callId), @callerText, @dtmf, @action, @agentReply, @createdAt
         WHERE EXISTS (SELECT 1 FROM calls WHERE id = @callId AND status IN ${LIVE})`,
      ),
      heard: db.prepare<[number, string, string]>(
        `UPDATE call_turns SET heard_fraction = ?
         WHERE call_id = ? AND EXISTS (SELECT 1 FROM calls WHERE id = call_turns.call_id AND status IN ${LIVE}) AND seq = (SELECT MAX(seq) FROM call_turns WHERE call_id = ? AND agent_reply IS NOT NULL)`,
      ),
      turns: db.prepare<[string], { seq: number; caller_text: string; dtmf: string | null; action: string; agent_reply: string | null; heard_fraction: number | null; created_at: string }>(
        `SELECT seq, caller_text, dtmf, action, agent_reply, heard_fraction, created_at FROM call_turns WHERE call_id = ? ORDER BY seq`,
      ),
      voice: db.prepare<[string], { number_id: string; system_prompt: string | null; greeting: string | null; voice: string | null }>(
        `SELECT number_id, system_prompt, greeting, voice FROM number_voice_settings WHERE number_id = ?`,
      ),
      setVoice: db.prepare(
        `INSERT INTO number_voice_settings (number_id, system_prompt, greeting, voice, updated_at)
         VALUES (@numberId, @systemPrompt, @greeting, @voice, @now)
         ON CONFLICT (number_id) DO UPDATE SET system_prompt = excluded.system_prompt, greeting = excluded.greeting,
           voice = excluded.voice, updated_at = excluded.updated_at`,
      ),
    };
  }

  insert(c: Pick<CallRecord, 'id' | 'numberId' | 'direction' | 'contact' | 'status' | 'sipCallId' | 'greeting' | 'instructions' | 'apiKeyId' | 'createdAt'>): CallRecord {
    this.stmts.insert.run(c);
    return this.get(c.id) as CallRecord;
  }

  get(id: string): CallRecord | undefined {
    const row = this.stmts.byId.get(id);
    return row && toRecord(row);
  }

  /** Newest first; `before` is a created_at cursor. */
  list(numberId: string, opts: { status?: CallStatus; before?: string; limit: number }): CallRecord[] {
    const status = opts.status ?? null;
    const before = opts.before ?? null;
    return this.stmts.list.all(numberId, status, status, before, before, opts.limit).map(toRecord);
  }

  /** Moves a live call to `status`; false when the call has ended (its record is final). */
  setStatus(id: string, status: CallStatus): boolean {
    return this.stmts.status.run(status, id).changes === 1;
  }

  setSipCallId(id: string, sipCallId: string): boolean {
    return this.stmts.sipCallId.run(sipCallId, id).changes === 1;
  }

  /** Marks a ringing call answered; false when it was already answered or has ended. */
  markAnswered(id: string, at: string): boolean {
    return this.stmts.answered.run(at, id).changes === 1;
  }

  countTurn(id: string): void {
    this.stmts.turn.run(id);
  }

  /** Ends a live call; false when it had already ended. */
  end(e: { id: string; status: CallStatus; endReason: string; sipStatus: number | null; errorMessage: string | null; durationMs: number | null; billableMinutes: number; endedAt: string }): boolean {
    return this.stmts.end.run(e).changes === 1;
  }

  /** Records a turn and counts it on a live call (a turn finishing after the hangup is dropped). */
  addTurn(callId: string, t: Omit<CallTurnRecord, 'seq' | 'heardFraction'>): boolean {
    if (this.stmts.addTurn.run({ callId, ...t }).changes === 0) return false;
    this.stmts.turn.run(callId);
    return true;
  }

  /** The caller talked over the latest reply after hearing this share of it. */
  setHeardFraction(callId: string, fraction: number): void {
    this.stmts.heard.run(fraction, callId, callId);
  }

  turns(callId: string): CallTurnRecord[] {
    return this.stmts.turns.all(callId).map((r) => ({
      seq: r.seq,
      callerText: r.caller_text,
      dtmf: r.dtmf,
      action: r.action,
      agentReply: r.agent_reply,
      heardFraction: r.heard_fraction,
      createdAt: r.created_at,
    }));
  }

  /** Calls a previous process left live (it stopped or crashed mid-call). */
  listLive(): CallRecord[] {
    return this.stmts.live.all().map(toRecord);
  }

  voiceSettings(numberId: string): VoiceSettingsRecord | undefined {
    const r = this.stmts.voice.get(numberId);
    return r && { numberId: r.number_id, systemPrompt: r.system_prompt, greeting: r.greeting, voice: r.voice };
  }

  setVoiceSettings(s: VoiceSettingsRecord, now: string): void {
    this.stmts.setVoice.run({ ...s, now });
  }
}
