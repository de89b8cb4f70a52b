import { randomUUID } from 'node:crypto';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ParsedAnswer {
  /** The answer; null when the model only called tools. */
  content: string | null;
  /** What the model thought before answering (Qwen3's <think> block); null when it did not. */
  reasoning: string | null;
  toolCalls: ToolCall[];
}

export interface OutputDelta {
  reasoning: string;
  content: string;
}

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
const CALL_OPEN = '<tool_call>';
const CALL_CLOSE = '</tool_call>';

/** Where `text` stops being safe to show: before a trailing prefix of `tag`. */
function beforePartial(text: string, tag: string): number {
  for (let k = Math.min(tag.length - 1, text.length); k > 0; k--) if (text.endsWith(tag.slice(0, k))) return text.length - k;
  return text.length;
}

/** A Hermes/Qwen tool call body: {"name": ..., "arguments": {...}}; undefined when it is not one. */
function toolCall(body: string): ToolCall | undefined {
  try {
    const v = JSON.parse(body) as { name?: unknown; arguments?: unknown };
    if (typeof v.name !== 'string') return undefined;
    const args = typeof v.arguments === 'string' ? v.arguments : JSON.stringify(v.arguments ?? {});
    return { id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`, type: 'function', function: { name: v.name, arguments: args } };
  } catch {
    return undefined;
  }
}

/**
 * Splits a chat model's raw text into what OpenAI clients expect, as vLLM's Qwen3 reasoning and
 * Hermes tool parsers do: a `<think>…</think>` block (opened by the model or by the prompt, as
 * Qwen3 templates end with `<think>\n`) becomes `reasoning_content`, `<tool_call>{json}</tool_call>`
 * blocks become `tool_calls`, the rest is `content`. While streaming, text that may still turn
 * out to be a tag or a tool call is held back, so what went out is never taken back.
 */
export class AssistantOutput {
  private sentReasoning = 0;
  private sentContent = 0;

  constructor(private readonly promptOpensThinking: boolean) {}

  /** What is new since the last call, for the raw text so far. */
  delta(text: string): OutputDelta {
    const { reasoning, content } = this.visible(text, false);
    return this.take(reasoning ?? '', content);
  }

  /** The whole answer once generation has ended, and what had not gone out yet. */
  finish(text: string): ParsedAnswer & { last: OutputDelta } {
    const { reasoning, content: raw } = this.visible(text, true);
    const calls: ToolCall[] = [];
    let content = '';
    let at = 0;
    for (;;) {
      const open = raw.indexOf(CALL_OPEN, at);
      if (open < 0) break;
      const close = raw.indexOf(CALL_CLOSE, open + CALL_OPEN.length);
      if (close < 0) break;
      const call = toolCall(raw.slice(open + CALL_OPEN.length, close).trim());
      if (!call) break; // not a call after all: the rest stays text
      content += raw.slice(at, open);
      calls.push(call);
      at = close + CALL_CLOSE.length;
    }
    content += raw.slice(at);
    if (calls.length > 0) content = content.trim();
    const last = this.take(reasoning ?? '', content);
    return { content: calls.length > 0 && content === '' ? null : content, reasoning, toolCalls: calls, last };
  }

  private visible(text: string, final: boolean): { reasoning: string | null; content: string } {
    let rest = text;
    let thinking = this.promptOpensThinking;
    const lead = rest.trimStart();
    // The answer may be about to open a think block: show nothing until that is known.
    if (!final && !thinking && THINK_OPEN.startsWith(lead)) return { reasoning: null, content: '' };
    if (lead.startsWith(THINK_OPEN)) {
      thinking = true;
      rest = lead.slice(THINK_OPEN.length);
    }
    let reasoning: string | null = null;
    if (thinking) {
      const close = rest.indexOf(THINK_CLOSE);
      if (close < 0) {
        // Still thinking (or never closed: then all of it was thought, as vLLM reports it).
        return { reasoning: (final ? rest : rest.slice(0, beforePartial(rest, THINK_CLOSE))).replace(/^\n+/, ''), content: '' };
      }
      reasoning = rest.slice(0, close).replace(/^\n+/, '').replace(/\n+$/, '');
      rest = rest.slice(close + THINK_CLOSE.length).replace(/^\n+/, '');
    }
    if (final) return { reasoning, content: rest };
    // A tool call may be starting: hold back from its tag (or a partial one) on.
    const call = rest.indexOf(CALL_OPEN);
    const content = call >= 0 ? rest.slice(0, call) : rest.slice(0, beforePartial(rest, CALL_OPEN));
    return { reasoning, content };
  }

  private take(reasoning: string, content: string): OutputDelta {
    const out: OutputDelta = { reasoning: '', content: '' };
    // While thinking the reasoning shown grows; once closed it is final. It only ever extends.
    if (reasoning.length > this.sentReasoning && reasoning.startsWith(reasoning.slice(0, this.sentReasoning))) {
      out.reasoning = reasoning.slice(this.sentReasoning);
      this.sentReasoning = reasoning.length;
    }
    if (content.length > this.sentContent) {
      out.content = content.slice(this.sentContent);
      this.sentContent = content.length;
    }
    return out;
  }
}
