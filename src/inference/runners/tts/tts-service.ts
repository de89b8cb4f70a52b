import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { Config } from '../../../config/index.ts';
import { UnavailableError } from '../../../errors/index.ts';
import type { Inference } from '../../service.ts';
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
  ) {}

  /** Throws 404 / 503 now (before any audio) when a model the voice needs is unknown or missing. */
  check(voice: Voice): void {
    for (const [model, family] of [[voice.model, 'orpheus'], [this.settings.snacModel, 'snac']] as const) {
      if (this.inference.registry.get(model)?.family !== family) {
        throw new UnavailableError(`voice ${voice.id} needs model ${model} (${family}), which is not configured: add it to inference.models`);
      }
      this.inference.registry.resolve(model, family);
    }
  }

  async *synthesize(text: string, voice: Voice, signal: AbortSignal, seed?: number): AsyncGenerator<Buffer> {
    const { llm, tokenizer } = await this.speaker(voice.model);
    const snac = this.inference.registry.resolve(this.settings.snacModel, 'snac');
    const encoder = { encode: (t: string) => tokenizer.encode(t).ids };
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
        const samples = await this.inference.pool.run<Float32Array>(
          { runner: SNAC_RUNNER, op: 'decode', model: snac, payload },
          { transfer: [payload.codes0.buffer, payload.codes1.buffer, payload.codes2.buffer], signal, stage: 'snac' },
        );
        return floatToPcm16(samples);
      };
      for await (const token of llm.generate(orpheusPrompt(encoder, voice.promptName, sentence), params, signal)) {
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
