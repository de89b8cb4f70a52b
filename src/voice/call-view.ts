import type { CallRecord, CallTurnRecord, NumberRecord } from '../store/index.ts';

/** A call's turn as the REST API and the MCP tools show it. */
export function turnView(t: CallTurnRecord) {
  return { seq: t.seq, caller: t.callerText, dtmf: t.dtmf, action: t.action, agent: t.agentReply, heardFraction: t.heardFraction, at: t.createdAt };
}

/** A call as the REST API and the MCP tools show it (from and to by its direction). */
export function toCallView(c: CallRecord, n: NumberRecord) {
  const inbound = c.direction === 'inbound';
  return {
    id: c.id,
    numberId: c.numberId,
    direction: c.direction,
    from: inbound ? c.contact : n.phoneNumber,
    to: inbound ? n.phoneNumber : c.contact,
    status: c.status,
    endReason: c.endReason,
    sipStatus: c.sipStatus,
    turns: c.turns,
    durationSeconds: c.durationMs === null ? null : Math.round(c.durationMs / 1000),
    billableMinutes: c.billableMinutes,
    createdAt: c.createdAt,
    answeredAt: c.answeredAt,
    endedAt: c.endedAt,
  };
}
