import { UnavailableError } from '../../errors/index.ts';
import { signWebhook, type CallTurnPayload, type HttpPost } from '../../webhooks/index.ts';
import type { AgentAction, CallAgent, TimedResult, TurnRequest } from '../ports.ts';

export interface WebhookAgentTarget {
  url: string;
  secret: string;
}

/** Reads the agent's answer to a call.turn; anything unrecognised is "ignore". */
export function parseTurnAnswer(text: string): AgentAction {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { action: 'ignore' };
  }
  if (typeof v !== 'object' || v === null) return { action: 'ignore' };
  const { action, reply, to } = v as Record<string, unknown>;
  const said = typeof reply === 'string' && reply.trim() !== '' ? reply : undefined;
  if (action === 'respond' && said) return { action: 'respond', reply: said };
  if (action === 'transfer' && typeof to === 'string' && /^\+[1-9][0-9]{6,14}$/.test(to)) return { action: 'transfer', to, ...(said && { reply: said }) };
  if (action === 'hangup') return { action: 'hangup', ...(said && { reply: said }) };
  return { action: 'ignore' };
}

/**
 * The number's webhook as the agent: each turn is a signed `call.turn` POST (signed exactly
 * like message events), answered inline. Not through the outbox: a turn is only worth answering
 * within the deadline, so it is never retried.
 */
export class WebhookAgent implements CallAgent {
  constructor(
    private readonly target: WebhookAgentTarget,
    private readonly post: HttpPost,
    private readonly deadlineMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async turn(r: TurnRequest, signal: AbortSignal): Promise<TimedResult<AgentAction>> {
    const payload: CallTurnPayload = {
      event: 'call.turn',
      call_id: r.callId,
      direction: r.direction,
      // Caller and callee as in every other call.* event: on an outbound call the number calls.
      from: r.from,
      to: r.to,
      transcript: r.transcript,
      dtmf: r.dtmf,
      history: r.history.filter((m): m is { role: 'user' | 'assistant'; content: string } => m.role !== 'system'),
      instructions: r.instructions,
      timestamp: new Date(this.now()).toISOString(),
    };
    const signed = signWebhook(payload, this.target.secret);
    const started = performance.now();
    if (signal.aborted) return { value: { action: 'ignore' }, modelMs: 0 };
    const res = await this.post({
      url: this.target.url,
      body: signed.body,
      timeoutMs: this.deadlineMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'AgentPhone-Webhooks/1',
        'x-agentphone-signature': signed.headerSignature,
        'x-agentphone-event': 'call.turn',
        'x-agentphone-delivery': `${r.callId}_${Date.now().toString(36)}`,
      },
    });
    const modelMs = performance.now() - started;
    if (res.status < 200 || res.status >= 300) throw new UnavailableError(`agent webhook answered HTTP ${res.status} to call.turn`);
    return { value: parseTurnAnswer(res.text), modelMs };
  }
}
