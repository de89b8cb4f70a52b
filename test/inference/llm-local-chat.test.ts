import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { ModelRegistry } from '../../src/inference/index.ts';
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatTemplate, chatMlPrompt, LocalChatModel, writeChatTestModel } from '../../src/inference/runners/llm/index.ts';

const signal = new AbortController().signal;

/** A tiny test chat model in a temp dir (`edit` changes its files first, as exports differ), served by LocalChatModel. */
function useTinyChat(prefix: string, defaultMaxTokens: number, edit?: (modelDir: string) => void) {
  const state = {} as { dir: string; chat: LocalChatModel };
  beforeAll(() => {
    state.dir = mkdtempSync(join(tmpdir(), prefix));
    writeChatTestModel(join(state.dir, 'tiny'));
    edit?.(join(state.dir, 'tiny'));
    const config = validateConfig({
      dataDir: state.dir,
      inference: { modelsDir: state.dir, session: { provider: 'cpu', intraOpThreads: 1 }, models: [{ name: 'tiny', family: 'llm', repo: 'local' }] },
    });
    state.chat = new LocalChatModel('tiny', new ModelRegistry(config.inference, state.dir), { maxBatch: 4, defaultMaxTokens, testModel: true });
  });
  afterAll(async () => {
    await state.chat.close();
    rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
}

describe('local chat model (ChatML, stop strings, streaming detokenization)', () => {
  const tiny = useTinyChat('agentphone-chat-', 16);

  it('renders messages as ChatML ending with the assistant turn', () => {
    expect(chatMlPrompt([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }])).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('cuts the answer before a stop string, in one piece and streamed alike', async () => {
    const base = { model: 'tiny', messages: [{ role: 'user', content: 'Say something' }], temperature: 0, max_tokens: 24 };
    const full = await tiny.chat.complete(base, signal);
    const text = full.choices[0]?.message.content ?? '';
    expect(full.usage?.completion_tokens).toBeGreaterThan(0);
    // A stop string taken from the middle of the greedy answer (ASCII, so it is well-defined).
    const at = [...text].findIndex((c, i) => i > 2 && /[ -~]/.test(c) && /[ -~]/.test(text[i + 1] ?? ''));
    expect(at).toBeGreaterThan(0);
    const stop = text.slice(at, at + 2);
    const cut = await tiny.chat.complete({ ...base, stop: [stop] }, signal);
    expect(cut.choices[0]?.message.content).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0]?.finish_reason).toBe('stop');
    const stream = await tiny.chat.stream({ ...base, stop: stop, stream: true }, signal);
    let streamed = '';
    let finish: string | null = null;
    for await (const data of stream.events) {
      const chunk = JSON.parse(data) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> };
      streamed += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(streamed).toBe(cut.choices[0]?.message.content);
    expect(finish).toBe('stop');
    expect(full.choices[0]?.finish_reason).toBe('length');
  });
});

describe('local chat model with its own chat template and generation defaults', () => {
  let template: ChatTemplate;
  let tokenizer: Tokenizer;
  const tiny = useTinyChat('agentphone-chat-template-', 8, (model) => {
    // As real exports ship them: the template in tokenizer_config.json, sampling defaults in generation_config.json.
    const json = (f: string) => JSON.parse(readFileSync(join(model, f), 'utf8')) as Record<string, unknown>;
    const tokenizerConfig = { ...json('tokenizer_config.json'), chat_template: readFileSync(new URL('../fixtures/chat-templates/qwen3-style.jinja', import.meta.url), 'utf8') };
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    writeFileSync(join(model, 'generation_config.json'), JSON.stringify({ ...json('generation_config.json'), do_sample: true, temperature: 0, top_p: 0.95 }));
    template = ChatTemplate.fromTokenizerConfig(tokenizerConfig);
    tokenizer = new Tokenizer(json('tokenizer.json'), tokenizerConfig);
  });

  it('prompts with the rendered template (tools and enable_thinking reach it)', async () => {
    const messages = [{ role: 'user', content: 'Weather in Oslo?' }];
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
    const tokens = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids.length;
    const plain = await tiny.chat.complete({ model: 'tiny', messages, max_tokens: 1 }, signal);
    expect(plain.usage?.prompt_tokens).toBe(tokens(template.render({ messages })));
    const withTools = await tiny.chat.complete({ model: 'tiny', messages, tools, chat_template_kwargs: { enable_thinking: false }, max_tokens: 1 }, signal);
    expect(withTools.usage?.prompt_tokens).toBe(tokens(template.render({ messages, tools, kwargs: { enable_thinking: false } })));
    expect(withTools.usage?.prompt_tokens).toBeGreaterThan((plain.usage?.prompt_tokens ?? 0) + 20);
    expect(chatMlPrompt(messages)).toBe(template.render({ messages })); // same turn markup, so the two agree here
  });

  it('samples with generation_config.json’s defaults when the request sets none (temperature 0 here: greedy whatever the seed)', async () => {
    const base = { model: 'tiny', messages: [{ role: 'user', content: 'Say something' }], max_tokens: 8 };
    const greedy = await tiny.chat.complete({ ...base, temperature: 0 }, signal);
    for (const seed of [1, 2, 3]) expect((await tiny.chat.complete({ ...base, seed }, signal)).choices[0]?.message.content).toBe(greedy.choices[0]?.message.content);
    // The request still wins: at temperature 1 some seed answers otherwise.
    const sampled = await Promise.all([1, 2, 3, 4].map((seed) => tiny.chat.complete({ ...base, seed, temperature: 1 }, signal)));
    expect(sampled.some((a) => a.choices[0]?.message.content !== greedy.choices[0]?.message.content)).toBe(true);
  });

  it('refuses parameters it does not serve instead of ignoring them', async () => {
    await expect(tiny.chat.complete({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], n: 2 }, signal)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^body\.n:/) });
    await expect(tiny.chat.complete({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], chat_template_kwargs: 'x' }, signal)).rejects.toMatchObject({ status: 400 });
  });
});
