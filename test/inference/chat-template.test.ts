import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssistantOutput, ChatTemplate } from '../../src/inference/runners/llm/index.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/chat-templates/${name}`, import.meta.url), 'utf8');
const qwen = ChatTemplate.fromTokenizerConfig({ chat_template: fixture('qwen3-style.jinja'), eos_token: '<|im_end|>', bos_token: null });
const llama = ChatTemplate.fromTokenizerConfig({ chat_template: fixture('llama3-style.jinja'), bos_token: { content: '<|begin_of_text|>' }, eos_token: '<|eot_id|>' });

describe('chat templates (the model’s own, rendered with Jinja)', () => {
  it('renders a Qwen3-style template with tools, tool results and reasoning history, and enable_thinking=false', () => {
    const prompt = qwen.render({
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        { role: 'assistant', content: '<think>\nneed a tool\n</think>\n\n', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', content: 'rain' },
      ],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
      kwargs: { enable_thinking: false },
    });
    expect(prompt).toBe(
      '<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n<tools>\n' +
        '{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}\n</tools>\n\n' +
        'For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags.<|im_end|>\n' +
        '<|im_start|>user\nWeather?<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\nneed a tool\n</think>\n\n\n<tool_call>\n{"name": "weather", "arguments": {"city":"Oslo"}}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\n<tool_response>\nrain\n</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
    // Thinking on (the default): the generation prompt leaves the model to open its think block.
    expect(qwen.render({ messages: [{ role: 'user', content: 'Hi' }] })).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('renders a Llama-style template with bos_token and the date, and turns raise_exception into a 400', () => {
    expect(llama.render({ messages: [{ role: 'system', content: 'S' }, { role: 'user', content: ' Hi ' }] })).toMatch(
      /^<\|begin_of_text\|><\|start_header_id\|>system<\|end_header_id\|>\n\nToday Date: \d\d \w{3} \d{4}\n\nS<\|eot_id\|><\|start_header_id\|>user<\|end_header_id\|>\n\nHi<\|eot_id\|><\|start_header_id\|>assistant<\|end_header_id\|>\n\n$/,
    );
    expect(() => llama.render({ messages: [{ role: 'assistant', content: 'x' }] })).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(/roles must alternate/) }));
  });

  it('uses the tool_use template of a named set when tools are given, ChatML when there is none', () => {
    const named = ChatTemplate.fromTokenizerConfig({ chat_template: [{ name: 'default', template: 'D' }, { name: 'tool_use', template: 'T{{ tools | length }}' }] });
    expect(named.render({ messages: [] })).toBe('D');
    expect(named.render({ messages: [], tools: [{}, {}] })).toBe('T2');
    const none = ChatTemplate.fromTokenizerConfig({});
    expect(none.own).toBe(false);
    expect(none.render({ messages: [{ role: 'user', content: 'Hi' }] })).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });
});

describe('assistant output (reasoning and tool calls out of the raw text)', () => {
  it('keeps a think block out of content, as reasoning, streamed and whole alike', () => {
    const raw = '<think>\nLet me see.\n</think>\n\nIt is 4.';
    const out = new AssistantOutput(false);
    let reasoning = '';
    let content = '';
    for (let i = 1; i <= raw.length; i++) {
      const d = out.delta(raw.slice(0, i));
      reasoning += d.reasoning;
      content += d.content;
      // Nothing of a tag ever shows.
      expect(reasoning + content).not.toMatch(/<\/?t(h(i(nk?)?)?)?$|<\/?think>/);
    }
    const end = out.finish(raw);
    reasoning += end.last.reasoning;
    content += end.last.content;
    expect(end).toMatchObject({ reasoning: 'Let me see.', content: 'It is 4.', toolCalls: [] });
    expect(content).toBe('It is 4.');
    expect(reasoning.trim()).toBe('Let me see.');
  });

  it('reads reasoning the prompt opened (a template ending in <think>) and plain answers as content only', () => {
    expect(new AssistantOutput(true).finish('hmm\n</think>\n\nYes.')).toMatchObject({ reasoning: 'hmm', content: 'Yes.' });
    expect(new AssistantOutput(false).finish('Just text.')).toMatchObject({ reasoning: null, content: 'Just text.', toolCalls: [] });
  });

  it('turns <tool_call> blocks into tool_calls, holding them back while streaming; a block that is not JSON stays text', () => {
    const raw = 'Checking.\n<tool_call>\n{"name": "weather", "arguments": {"city": "Oslo"}}\n</tool_call>';
    const out = new AssistantOutput(false);
    let content = '';
    for (let i = 1; i <= raw.length; i++) content += out.delta(raw.slice(0, i)).content;
    expect(content).toBe('Checking.\n');
    const end = out.finish(raw);
    expect(end.content).toBe('Checking.');
    expect(end.toolCalls).toEqual([{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }]);
    expect(new AssistantOutput(false).finish('<tool_call>\n{"name": "f"}\n</tool_call>')).toMatchObject({ content: null, toolCalls: [{ function: { name: 'f', arguments: '{}' } }] });
    expect(new AssistantOutput(false).finish('<tool_call>not json</tool_call>')).toMatchObject({ content: '<tool_call>not json</tool_call>', toolCalls: [] });
  });
});
