import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { ModelRegistry } from '../../src/inference/index.ts';
import { chatMlPrompt, LocalChatModel, writeChatTestModel } from '../../src/inference/runners/llm/index.ts';

const signal = new AbortController().signal;

describe('local chat model (ChatML, stop strings, streaming detokenization)', () => {
  let dir: string;
  let chat: LocalChatModel;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-chat-'));
    writeChatTestModel(join(dir, 'tiny'));
    const config = validateConfig({
      dataDir: dir,
      inference: { modelsDir: dir, session: { provider: 'cpu', intraOpThreads: 1 }, models: [{ name: 'tiny', family: 'llm', repo: 'local' }] },
    });
    chat = new LocalChatModel('tiny', new ModelRegistry(config.inference, dir), { maxBatch: 4, defaultMaxTokens: 16, testModel: true });
  });
  afterAll(async () => {
    await chat.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders messages as ChatML ending with the assistant turn', () => {
    expect(chatMlPrompt([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }])).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('cuts the answer before a stop string, in one piece and streamed alike', async () => {
    const base = { model: 'tiny', messages: [{ role: 'user', content: 'Say something' }], temperature: 0, max_tokens: 24 };
    const full = await chat.complete(base, signal);
    const text = full.choices[0]?.message.content ?? '';
    expect(full.usage?.completion_tokens).toBeGreaterThan(0);
    // A stop string taken from the middle of the greedy answer (ASCII, so it is well-defined).
    const at = [...text].findIndex((c, i) => i > 2 && /[ -~]/.test(c) && /[ -~]/.test(text[i + 1] ?? ''));
    expect(at).toBeGreaterThan(0);
    const stop = text.slice(at, at + 2);
    const cut = await chat.complete({ ...base, stop: [stop] }, signal);
    expect(cut.choices[0]?.message.content).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0]?.finish_reason).toBe('stop');
    const stream = await chat.stream({ ...base, stop: stop, stream: true }, signal);
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
