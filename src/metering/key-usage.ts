import type { UsageRepository } from '../store/index.ts';
import { ledgerMonth } from './month.ts';

/** What the voice AI API meters per API key and month (key_usage_ledger kinds). */
export const KEY_USAGE_KINDS = {
  speechMinutes: 'ai_speech_minutes',
  /** Audio transcribed (the route and the MCP tool), priced at metering.voiceAiMinuteUsd. */
  transcriptionMinutes: 'ai_transcription_minutes',
  chatPromptTokens: 'chat_prompt_tokens',
  chatCompletionTokens: 'chat_completion_tokens',
} as const;

/** Per-key metering of the voice AI API: audio minutes (exact, not rounded) and chat tokens. */
export class KeyUsageMeter {
  constructor(private readonly repo: UsageRepository) {}

  async recordSpeechSeconds(apiKeyId: string, seconds: number, now: number): Promise<void> {
    if (seconds > 0) await this.repo.addForKey(apiKeyId, ledgerMonth(now), KEY_USAGE_KINDS.speechMinutes, seconds / 60);
  }

  async recordTranscriptionSeconds(apiKeyId: string, seconds: number, now: number): Promise<void> {
    if (seconds > 0) await this.repo.addForKey(apiKeyId, ledgerMonth(now), KEY_USAGE_KINDS.transcriptionMinutes, seconds / 60);
  }

  async recordChatTokens(apiKeyId: string, promptTokens: number, completionTokens: number, now: number): Promise<void> {
    const month = ledgerMonth(now);
    if (promptTokens > 0) await this.repo.addForKey(apiKeyId, month, KEY_USAGE_KINDS.chatPromptTokens, promptTokens);
    if (completionTokens > 0) await this.repo.addForKey(apiKeyId, month, KEY_USAGE_KINDS.chatCompletionTokens, completionTokens);
  }

  forKey(apiKeyId: string, month: string): Promise<Record<string, number>> {
    return this.repo.forKey(apiKeyId, month);
  }
}
