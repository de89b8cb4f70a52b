import type { Clock } from '../clock/index.ts';
import { AgentPhoneError } from '../errors/index.ts';
import type { WhisperService } from '../inference/index.ts';
import { KeyUsageMeter } from '../metering/index.ts';
import type { MediaStore } from '../mms/index.ts';
import type { UsageRepository } from '../store/index.ts';
import type { MediaLookup, TranscribeRequest, TranscribeResult } from './deps.ts';


/** Received media read from the MMS media store, refused past `maxBytes` (inference.maxAudioBytes). */
export function mediaLookup(media: MediaStore, maxBytes: number): MediaLookup {
  return {
    read: async (id) => {
      const found = await media.lookup(id);
      if (!found) return undefined;
      if (found.size > maxBytes) throw new AgentPhoneError('PAYLOAD_TOO_LARGE', `Media ${id} is ${found.size} bytes; at most ${maxBytes} can be transcribed`, { status: 413 });
      const data = await found.read();
      return data && { contentType: found.contentType, data };
    },
  };
}

/** Transcribes with the local Whisper service and meters the minutes on the key, as the transcription route does. */
export function whisperTranscriber(d: { whisper: WhisperService; usage: UsageRepository; clock: Clock; model: string }): (req: TranscribeRequest) => Promise<TranscribeResult> {
  const meter = new KeyUsageMeter(d.usage);
  return async ({ principal, audio, signal }) => {
    d.whisper.resolve(d.model); // 404 / 503 before any audio work
    const result = await d.whisper.transcribeFile(audio, 'media', { model: d.model, signal });
    await meter.recordTranscriptionSeconds(principal.keyId, result.durationS, d.clock.now());
    return { text: result.text, language: result.language, durationS: result.durationS };
  };
}
