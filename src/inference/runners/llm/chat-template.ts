import { Template } from '@huggingface/jinja';
import { ValidationError } from '../../../errors/index.ts';
import type { ChatMessage } from './chat-types.ts';

/** What a prompt is rendered from besides the messages. */
export interface TemplateInput {
  messages: readonly ChatMessage[];
  /** OpenAI `tools`, handed to the template as they came (templates print them with tojson). */
  tools?: readonly unknown[] | undefined;
  /** Extra template variables (vLLM's `chat_template_kwargs`, e.g. `enable_thinking: false`). */
  kwargs?: Readonly<Record<string, unknown>> | undefined;
}

type NamedTemplate = { name?: unknown; template?: unknown };

/** A special token as tokenizer_config.json gives it: a string or an AddedToken object. */
function tokenText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return '';
}

/** Message content as templates expect it: a string (text parts joined), or null. */
function plainMessage(m: ChatMessage): Record<string, unknown> {
  const content = typeof m.content === 'string' || m.content == null ? m.content : m.content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
  return { ...m, role: m.role === 'developer' ? 'system' : m.role, content: content ?? '' };
}

/** The ChatML prompt, for models whose tokenizer_config.json carries no template (older Qwen exports). */
export function chatMlPrompt(messages: readonly ChatMessage[]): string {
  return `${messages
    .map(plainMessage)
    .map((m) => `<|im_start|>${String(m.role)}\n${String(m.content)}<|im_end|>\n`)
    .join('')}<|im_start|>assistant\n`;
}

/**
 * The model's own chat template (tokenizer_config.json `chat_template`), rendered with a Jinja
 * implementation (@huggingface/jinja, what transformers.js uses) the way transformers'
 * apply_chat_template does: messages, tools, bos/eos tokens, add_generation_prompt, and the
 * caller's template kwargs (enable_thinking). A template that raises (raise_exception: roles out
 * of order, say) is the request's fault: 400 with the template's words.
 */
export class ChatTemplate {
  private constructor(
    private readonly main: Template | null,
    private readonly toolUse: Template | null,
    private readonly specials: Record<string, string>,
  ) {}

  static fromTokenizerConfig(config: Readonly<Record<string, unknown>>): ChatTemplate {
    const raw = config.chat_template;
    let main: string | undefined;
    let toolUse: string | undefined;
    if (typeof raw === 'string') main = raw;
    else if (Array.isArray(raw)) {
      for (const t of raw as NamedTemplate[]) {
        if (typeof t.template !== 'string') continue;
        if (t.name === 'default') main = t.template;
        else if (t.name === 'tool_use') toolUse = t.template;
      }
    }
    const specials = { bos_token: tokenText(config.bos_token), eos_token: tokenText(config.eos_token), pad_token: tokenText(config.pad_token), unk_token: tokenText(config.unk_token) };
    return new ChatTemplate(main === undefined ? null : new Template(main), toolUse === undefined ? null : new Template(toolUse), specials);
  }

  /** Whether the model brought a template of its own (else ChatML). */
  get own(): boolean {
    return this.main !== null;
  }

  render(input: TemplateInput): string {
    const tools = input.tools && input.tools.length > 0 ? input.tools : undefined;
    const template = (tools && this.toolUse) || this.main;
    if (!template) return chatMlPrompt(input.messages);
    const kwargs = { ...input.kwargs };
    for (const reserved of ['messages', 'tools', 'add_generation_prompt', 'raise_exception', 'strftime_now']) delete kwargs[reserved];
    try {
      return template.render({
        ...this.specials,
        ...kwargs,
        messages: input.messages.map(plainMessage),
        ...(tools && { tools }),
        add_generation_prompt: true,
      });
    } catch (err) {
      throw new ValidationError(`body.messages: the model's chat template refused them: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
