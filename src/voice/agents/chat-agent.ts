import type { AgentAction, CallAgent, ChatMessage, TimedResult, TurnRequest, VoiceInference } from '../ports.ts';

const DEFAULT_PROMPT =
  'You are a helpful phone agent. Answer in one or two short spoken sentences, with no lists or markup.';

/** The built-in chat model as the agent, with the number's system prompt and the call's history. */
export class ChatAgent implements CallAgent {
  constructor(
    private readonly inference: VoiceInference,
    private readonly systemPrompt: string | null,
  ) {}

  async turn(r: TurnRequest, signal: AbortSignal): Promise<TimedResult<AgentAction>> {
    const system = [this.systemPrompt ?? DEFAULT_PROMPT, r.instructions].filter(Boolean).join('\n\n');
    const said = r.transcript || (r.dtmf ? `[the caller pressed ${r.dtmf}]` : '');
    const messages: ChatMessage[] = [{ role: 'system', content: system }, ...r.history, { role: 'user', content: said }];
    const res = await this.inference.chat(messages, signal);
    const reply = res.value.trim();
    return { value: reply ? { action: 'respond', reply } : { action: 'ignore' }, modelMs: res.modelMs };
  }
}
