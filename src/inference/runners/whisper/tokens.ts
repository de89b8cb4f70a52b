import type { Tokenizer } from '@huggingface/tokenizers';

/** Whisper's special tokens, read from the model's own tokenizer and generation config. */
export interface WhisperTokens {
  eot: number;
  sot: number;
  transcribe: number;
  translate: number;
  startOfPrev: number;
  noSpeech: number | null;
  noTimestamps: number;
  timestampBegin: number;
  /** Language code → token id, in the model's order. */
  languages: Map<string, number>;
  suppress: number[];
  beginSuppress: number[];
  maxInitialTimestampIndex: number;
  vocabSize: number;
}

export interface GenerationConfig {
  suppress_tokens?: number[];
  begin_suppress_tokens?: number[];
  lang_to_id?: Record<string, number>;
  task_to_id?: Record<string, number>;
  no_timestamps_token_id?: number;
  max_initial_timestamp_index?: number;
  decoder_start_token_id?: number;
  eos_token_id?: number;
  prev_sot_token_id?: number;
}

export function whisperTokens(tokenizer: Tokenizer, gen: GenerationConfig, vocabSize: number): WhisperTokens {
  const id = (t: string): number | null => {
    const v = tokenizer.token_to_id(t);
    return v === undefined || v === null ? null : v;
  };
  const need = (t: string, fallback?: number): number => {
    const v = id(t) ?? fallback;
    if (v === undefined) throw new Error(`tokenizer has no ${t}`);
    return v;
  };
  const noTimestamps = gen.no_timestamps_token_id ?? need('<|notimestamps|>');
  const languages = new Map<string, number>();
  for (const [tok, tid] of Object.entries(gen.lang_to_id ?? {})) languages.set(tok.replace(/^<\|/, '').replace(/\|>$/, ''), tid);
  return {
    eot: gen.eos_token_id ?? need('<|endoftext|>'),
    sot: gen.decoder_start_token_id ?? need('<|startoftranscript|>'),
    transcribe: gen.task_to_id?.transcribe ?? need('<|transcribe|>'),
    translate: gen.task_to_id?.translate ?? need('<|translate|>'),
    startOfPrev: gen.prev_sot_token_id ?? need('<|startofprev|>'),
    noSpeech: id('<|nospeech|>') ?? id('<|nocaptions|>'),
    noTimestamps,
    timestampBegin: noTimestamps + 1,
    languages,
    suppress: gen.suppress_tokens ?? [],
    beginSuppress: gen.begin_suppress_tokens ?? [],
    maxInitialTimestampIndex: gen.max_initial_timestamp_index ?? 50,
    vocabSize,
  };
}
