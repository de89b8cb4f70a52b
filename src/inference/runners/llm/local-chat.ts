import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { AgentPhoneError, ValidationError } from '../../../errors/index.ts';
import type { ModelRegistry } from '../../registry.ts';
import { AssistantOutput, type OutputDelta, type ParsedAnswer } from './assistant-output.ts';
import { ChatTemplate } from './chat-template.ts';
import { usageOf, type ChatBackend, type ChatCompletion, type ChatRequest, type ChatStream, type FinishReason } from './chat-types.ts';
import { decoderOnlyFile } from './family.ts';
import { LocalLlm } from './local-llm.ts';
import type { GenerateParams } from './protocol.ts';

interface Loaded {
  llm: LocalLlm;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  /** generation_config.json's sampling settings, used where a request gives none. */
  defaults: { temperature?: number; top_p?: number; top_k?: number; repetition_penalty?: number };
  eos: number[];
  /** Positions the model was built for (config.json max_position_embeddings); prompt and answer share them. */
  contextTokens: number | undefined;
}

/** 400, as OpenAI's context_length_exceeded: the messages alone fill the model's context. */
export class ContextLengthExceededError extends AgentPhoneError {
  constructor(model: string, promptTokens: number, contextTokens: number) {
    super(
      'CONTEXT_LENGTH_EXCEEDED',
      `body.messages: the prompt has ${promptTokens} tokens but ${model}'s context is ${contextTokens} tokens, prompt and answer together; shorten the messages`,
      { status: 400 },
    );
  }
}

interface Run {
  id: string;
  created: number;
  promptTokens: number;
  /** Reasoning and content as they become safe to show. */
  pieces: AsyncGenerator<OutputDelta>;
  /** The parsed answer, once `pieces` has ended. */
  answer: () => ParsedAnswer;
  completionTokens: () => number;
  finish: () => FinishReason;
}

/** Request parameters this runner does not serve: refused rather than ignored. */
function refuseUnserved(request: ChatRequest): void {
  if (request.n != null && request.n !== 1) throw new ValidationError('body.n: this model answers with one choice; n must be 1');
  const kwargs = request.chat_template_kwargs;
  if (kwargs != null && (typeof kwargs !== 'object' || Array.isArray(kwargs))) throw new ValidationError('body.chat_template_kwargs: must be an object');
  if (request.tools != null && !Array.isArray(request.tools)) throw new ValidationError('body.tools: must be an array');
}

/** The message an answer ends with: content, reasoning_content when the model thought, tool_calls when it called. */
function messageOf(a: ParsedAnswer): ChatCompletion['choices'][number]['message'] {
  return {
    role: 'assistant',
    content: a.content,
    ...(a.reasoning !== null && { reasoning_content: a.reasoning }),
    ...(a.toolCalls.length > 0 && { tool_calls: a.toolCalls }),
  };
}

/**
 * A chat model served by the local decoder-only runner: ChatML prompt, the model's tokenizer,
 * streamed detokenization (text is held back while it may be a partial UTF-8 character or the
 * start of a stop string), stop strings and tokens, max_tokens.
 */
export class LocalChatModel implements ChatBackend {
  readonly ownedBy: string;
  private loading: Promise<Loaded> | undefined;

  constructor(
    readonly model: string,
    private readonly registry: ModelRegistry,
    private readonly options: { maxBatch: number; defaultMaxTokens: number; testModel: boolean },
  ) {
    this.ownedBy = options.testModel ? 'agentphone-test' : 'agentphone';
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const run = await this.run(request, signal);
    for await (const _ of run.pieces);
    return {
      id: run.id,
      object: 'chat.completion',
      created: run.created,
      model: this.model,
      choices: [{ index: 0, message: messageOf(run.answer()), finish_reason: run.finish(), logprobs: null }],
      usage: usageOf(run.promptTokens, run.completionTokens()),
    };
  }

  async stream(request: ChatRequest, signal: AbortSignal): Promise<ChatStream> {
    const run = await this.run(request, signal);
    const model = this.model;
    const wantUsage = request.stream_options?.include_usage === true;
    const base = { id: run.id, object: 'chat.completion.chunk' as const, created: run.created, model };
    let done = false;
    async function* events(): AsyncGenerator<string> {
      yield JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      const chunk = (delta: Record<string, unknown>) => JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] });
      for await (const piece of run.pieces) {
        if (piece.reasoning) yield chunk({ reasoning_content: piece.reasoning });
        if (piece.content) yield chunk({ content: piece.content });
      }
      const calls = run.answer().toolCalls;
      if (calls.length > 0) yield chunk({ tool_calls: calls.map((c, index) => ({ index, ...c })) });
      yield JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: run.finish() }] });
      done = true;
      if (wantUsage) yield JSON.stringify({ ...base, choices: [], usage: usageOf(run.promptTokens, run.completionTokens()) });
    }
    return {
      events: events(),
      usage: () => usageOf(run.promptTokens, run.completionTokens()),
      close: () => {
        if (!done) void run.pieces.return(undefined);
      },
    };
  }

  close(): Promise<void> {
    return this.loading?.then((l) => l.llm.close()).catch(() => undefined) ?? Promise.resolve();
  }

  private load(): Promise<Loaded> {
    const runtime = this.registry.resolve(this.model, 'llm');
    this.loading ??= (async () => {
      const json = (f: string) => JSON.parse(readFileSync(join(runtime.dir, f), 'utf8')) as Record<string, unknown>;
      const tokenizerConfig = json('tokenizer_config.json');
      const tokenizer = new Tokenizer(json('tokenizer.json'), tokenizerConfig);
      const template = ChatTemplate.fromTokenizerConfig(tokenizerConfig);
      const gen = json('generation_config.json');
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      // Sampling defaults apply when the export samples (do_sample); greedy exports leave temperature alone.
      const sampled = gen.do_sample !== false;
      const defaults = {
        ...(sampled && num(gen.temperature) !== undefined && { temperature: num(gen.temperature) }),
        ...(sampled && num(gen.top_p) !== undefined && { top_p: num(gen.top_p) }),
        ...(sampled && num(gen.top_k) !== undefined && { top_k: num(gen.top_k) }),
        ...(num(gen.repetition_penalty) !== undefined && { repetition_penalty: num(gen.repetition_penalty) }),
      };
      const config = json('config.json');
      const eos = ([] as unknown[]).concat(gen.eos_token_id ?? config.eos_token_id ?? []).map(Number);
      const positions = Number(config.max_position_embeddings);
      const contextTokens = Number.isInteger(positions) && positions > 0 ? positions : undefined;
      const llm = await LocalLlm.start(runtime, { maxBatch: this.options.maxBatch, file: decoderOnlyFile(runtime.dtype) });
      return { llm, tokenizer, template, defaults, eos, contextTokens };
    })();
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  private async run(request: ChatRequest, signal: AbortSignal): Promise<Run> {
    refuseUnserved(request);
    const { llm, tokenizer, template, defaults, eos, contextTokens } = await this.load();
    const rendered = template.render({
      messages: request.messages,
      tools: request.tools as unknown[] | undefined,
      kwargs: request.chat_template_kwargs as Record<string, unknown> | undefined,
    });
    // The template writes the special tokens itself (bos included).
    const prompt = tokenizer.encode(rendered, { add_special_tokens: false }).ids;
    // Past its last position the model cannot run at all: refuse, before any work, what cannot fit.
    if (contextTokens !== undefined && prompt.length >= contextTokens) throw new ContextLengthExceededError(this.model, prompt.length, contextTokens);
    const stops = request.stop == null ? [] : ([] as string[]).concat(request.stop).filter((s) => s.length > 0);
    const params: GenerateParams = {
      sampling: {
        temperature: request.temperature ?? defaults.temperature ?? 1,
        topP: request.top_p ?? defaults.top_p ?? 1,
        topK: Math.max(0, request.top_k ?? defaults.top_k ?? 0),
        repetitionPenalty: request.repetition_penalty ?? defaults.repetition_penalty ?? 1,
      },
      seed: request.seed ?? Math.floor(Math.random() * 2 ** 32),
      maxTokens: request.max_completion_tokens ?? request.max_tokens ?? this.options.defaultMaxTokens,
      stopTokens: eos,
    };
    if (params.maxTokens < 1) throw new ValidationError('body.max_tokens: must be at least 1');
    // The answer stops at the end of the context, finishing with 'length' as max_tokens would.
    if (contextTokens !== undefined) params.maxTokens = Math.min(params.maxTokens, contextTokens - prompt.length);
    const generation = llm.generate(prompt, params, signal);
    const ids: number[] = [];
    let stoppedByString = false;
    const output = new AssistantOutput(/<think>\s*$/.test(rendered));
    let answer: ParsedAnswer | undefined;
    async function* raw(): AsyncGenerator<string> {
      let emitted = 0;
      for await (const token of generation) {
        ids.push(token);
        const text = tokenizer.decode(ids, { skip_special_tokens: true });
        const hit = firstStop(text, stops, emitted);
        if (hit >= 0) {
          stoppedByString = true;
          if (hit > emitted) yield text.slice(0, hit);
          return;
        }
        const safe = safeEnd(text, stops);
        if (safe > emitted) {
          yield text.slice(0, safe);
          emitted = safe;
        }
      }
      yield tokenizer.decode(ids, { skip_special_tokens: true });
    }
    // Raw text so far → reasoning and content deltas; the whole answer parsed at the end.
    async function* pieces(): AsyncGenerator<OutputDelta> {
      let text = '';
      for await (const t of raw()) {
        text = t;
        yield output.delta(text);
      }
      const { last, ...parsed } = output.finish(text);
      answer = parsed;
      yield last;
    }
    return {
      id: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
      created: Math.floor(Date.now() / 1000),
      promptTokens: prompt.length,
      pieces: pieces(),
      answer: () => answer ?? { content: '', reasoning: null, toolCalls: [] },
      completionTokens: () => ids.length,
      finish: () => ((answer?.toolCalls.length ?? 0) > 0 ? 'tool_calls' : stoppedByString || generation.reason === 'stop' ? 'stop' : 'length'),
    };
  }
}

/** Where the first stop string starts (searching from a little before `from`), or -1. */
function firstStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s, Math.max(0, from - s.length));
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** How much of `text` can go out: not a trailing partial character, nor a possible stop-string start. */
function safeEnd(text: string, stops: readonly string[]): number {
  let end = text.endsWith('\uFFFD') ? text.length - 1 : text.length;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, end); k > 0; k--) {
      if (text.slice(end - k, end) === s.slice(0, k)) {
        end -= k;
        break;
      }
    }
  }
  return end;
}
