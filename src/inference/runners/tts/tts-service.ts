import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { Config } from '../../../config/index.ts';
import { UnavailableError } from '../../../errors/index.ts';
import type { Inference } from '../../service.ts';
import type { ChatStream } from '../llm/chat-types.ts';
import type { UpstreamEngine, Upstreams } from '../../upstream/index.ts';
import { decoderOnlyFile } from '../llm/family.ts';
import { LocalLlm } from '../llm/local-llm.ts';
import type { GenerateParams } from '../llm/protocol.ts';
import { orpheusPrompt, splitSentences } from './prompt.ts';
import type { SnacDecodePayload } from './snac-runner.ts';
import { ORPHEUS_TOKENS, SnacStreamWindow, type DecodeStep } from './snac-codes.ts';
import type { Voice } from './voices.ts';
import { floatToPcm16 } from './wav.ts';

const SNAC_RUNNER = new URL('./snac-runner.ts', import.meta.url).href;

interface Speaker {
  llm: LocalLlm;
  tokenizer: Tokenizer;
}

/**
 * Orpheus TTS: per sentence, the LM generates audio tokens on its decode-loop thread while SNAC
 * windows decode on the inference pool as soon as each frame completes, so the first audio
 * leaves after 4 frames whatever the text length. Yields 24 kHz s16le PCM chunks.
 */
export class TtsService {
  private readonly speakers = new Map<string, Promise<Speaker>>();

  constructor(
    private readonly inference: Inference,
    private readonly settings: Readonly<Config['speech']>,
    private readonly maxBatch: number,
    /** Orpheus LMs served by upstream completions engines (vLLM), by model name, and their local fallbacks. */
    private readonly upstreams?: Pick<Upstreams, 'speech' | 'fallsBack' | 'orLocal'>,
  ) {}

  /** Throws 404 / 503 now (before any audio) when a model the voice needs is unknown or missing. */
  check(voice: Voice): void {
    const needed = [[voice.model, 'orpheus'], [this.settings.snacModel, 'snac']] as const;
    for (const [model, family] of needed.filter(([m]) => this.upstreams?.speech.has(m) !== true)) {
      if (this.inference.registry.get(model)?.family !== family) {
        throw new UnavailableError(`voice ${voice.id} needs model ${model} (${family}), which is not configured: add it to inference.models`, { retryable: false });
      }
      this.inference.registry.resolve(model, family);
    }
  }

  async *synthesize(text: string, voice: Voice, signal: AbortSignal, seed?: number): AsyncGenerator<Buffer> {
    const upstream = this.upstreams?.speech.get(voice.model);
    let local = upstream ? undefined : await this.speaker(voice.model);
    const snac = this.inference.registry.resolve(this.settings.snacModel, 'snac');
    for (const sentence of splitSentences(text)) {
      signal.throwIfAborted();
      const params: GenerateParams = {
        sampling: { temperature: this.settings.temperature, topP: this.settings.topP, topK: 0, repetitionPenalty: this.settings.repetitionPenalty },
        seed: seed ?? Math.floor(Math.random() * 2 ** 32),
        maxTokens: this.settings.maxAudioTokens,
        stopTokens: [ORPHEUS_TOKENS.endOfSpeech, ORPHEUS_TOKENS.endOfAi, ORPHEUS_TOKENS.endOfText],
      };
      const window = new SnacStreamWindow();
      const decode = async (step: DecodeStep) => {
        const payload: SnacDecodePayload = { ...step.snac, keepFrom: step.keepFrom, keepTo: step.keepTo };
        const samples = await this.inference.pools.tts.run<Float32Array>(
          { runner: SNAC_RUNNER, op: 'decode', model: snac, payload },
          { transfer: [payload.codes0.buffer, payload.codes1.buffer, payload.codes2.buffer], signal, stage: 'snac' },
        );
        return floatToPcm16(samples);
      };
      let remote: ChatStream | undefined;
      if (!local && upstream && this.upstreams) {
        // No replica answering moves this and the following sentences to the local model (fallback: local).
        const opened = await this.upstreams.orLocal<ChatStream | Speaker>(
          voice.model,
          () => openUpstream(upstream, voice.promptName, sentence, params, signal),
          () => this.speaker(voice.model),
        );
        if ('events' in opened) remote = opened;
        else local = opened;
      }
      const speaker = local;
      const tokens = speaker
        ? speaker.llm.generate(orpheusPrompt({ encode: (t: string) => speaker.tokenizer.encode(t).ids }, voice.promptName, sentence), params, signal)
        : customTokens(remote as ChatStream);
      for await (const token of tokens) {
        const step = window.push(token);
        if (step) yield await decode(step);
      }
      const tail = window.finish();
      if (tail) yield await decode(tail);
    }
  }

  async close(): Promise<void> {
    for (const s of this.speakers.values()) await s.then((x) => x.llm.close()).catch(() => undefined);
  }

  private speaker(model: string): Promise<Speaker> {
    let s = this.speakers.get(model);
    if (!s) {
      const runtime = this.inference.registry.resolve(model, 'orpheus');
      s = (async () => {
        const json = (f: string) => JSON.parse(readFileSync(join(runtime.dir, f), 'utf8')) as object;
        const tokenizer = new Tokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
        const llm = await LocalLlm.start(runtime, { maxBatch: this.maxBatch, file: decoderOnlyFile(runtime.dtype) });
        this.inference.logger.info({ model, provider: llm.provider }, 'TTS decode loop started');
        return { tokenizer, llm };
      })();
      this.speakers.set(model, s);
      s.catch(() => this.speakers.delete(model));
    }
    return s;
  }
}

/**
 * Audio tokens from an Orpheus LM on an upstream completions engine: the framed prompt as the
 * reference sends it to vLLM (the ids decoded to text), and `<custom_token_N>` pieces parsed
 * back to ids from the streamed text.
 */
function openUpstream(engine: UpstreamEngine, promptName: string, text: string, params: GenerateParams, signal: AbortSignal): Promise<ChatStream> {
  const prompt = `<custom_token_3><|begin_of_text|>${promptName}: ${text}<|eot_id|><custom_token_4><custom_token_5><custom_token_1>`;
  return engine.streamCompletion(
    {
      prompt,
      max_tokens: params.maxTokens,
      temperature: params.sampling.temperature,
      top_p: params.sampling.topP,
      repetition_penalty: params.sampling.repetitionPenalty,
      stop_token_ids: params.stopTokens,
      seed: params.seed,
    },
    signal,
  );
}

/** `<custom_token_N>` pieces of a streamed completion, parsed back to ids. */
async function* customTokens(stream: ChatStream): AsyncGenerator<number> {
  let carry = '';
  try {
    for await (const data of stream.events) {
      const chunk = JSON.parse(data) as { choices?: Array<{ text?: string }> };
      carry += chunk.choices?.[0]?.text ?? '';
      let last = 0;
      for (const m of carry.matchAll(CUSTOM_TOKEN)) {
        yield CUSTOM_TOKEN_BASE + Number(m[1]);
        last = (m.index ?? 0) + m[0].length;
      }
      carry = carry.slice(last);
      // Keep only what may still become a token.
      const open = carry.lastIndexOf('<');
      carry = open === -1 ? '' : carry.slice(open);
    }
  } finally {
    stream.close();
  }
}

const CUSTOM_TOKEN = /<custom_token_(\d+)>/g;
/** `<custom_token_0>` is the first id after Llama-3's 128256. */
const CUSTOM_TOKEN_BASE = 128256;
