import type { VoiceAi } from './api/routes/v1/voice-ai.ts';
import type { Config } from './config/index.ts';
import { UnavailableError } from './errors/index.ts';
import { findVoice, type WhisperService } from './inference/index.ts';
import { floatToPcm16, wavFile } from './inference/runners/tts/index.ts';
import type { SpeechServices } from './voice/index.ts';

/**
 * What a phone call's turn loop needs from the voice AI stack: Whisper (voice.sttModel) on the
 * inference pool, Orpheus through the TTS service (the model voice.voice names), and the chat
 * router (local model or upstream engine) with the configured default chat model.
 */
export function speechServicesFor(config: Readonly<Config>, whisper: WhisperService, voiceAi: VoiceAi): SpeechServices {
  return {
    async transcribe(pcm16k, signal) {
      const model = config.voice.sttModel;
      const local = async () => (await whisper.transcribe(pcm16k, { model, signal })).text;
      // On transcription engines when an upstreams entry serves the model (sent as a 16 kHz WAV).
      const upstream = voiceAi.upstreams.transcription.get(model);
      const remote = async () => (await upstream!.transcribe({ file: wavFile(floatToPcm16(pcm16k), 16_000), filename: 'utterance.wav', mimetype: 'audio/wav', granularities: [] }, signal)).text;
      const text = upstream ? await voiceAi.upstreams.orLocal(model, remote, local) : await local();
      return text.trim();
    },
    speak(text, voiceId, signal) {
      const voice = findVoice(voiceId);
      const tts = voiceAi.tts;
      if (!voice) throw new UnavailableError(`voice.voice "${voiceId}" is not a known voice (see /api/v1/voices)`);
      if (!tts) throw new UnavailableError('text-to-speech is not available: no inference pool');
      return tts.synthesize(text, voice, signal);
    },
    async chat(messages, signal) {
      const model = config.chat.defaultModel;
      const completion = await voiceAi.router.get(model).complete({ model, messages: messages.map((m) => ({ role: m.role, content: m.content })) }, signal);
      return completion.choices[0]?.message.content ?? '';
    },
  };
}
