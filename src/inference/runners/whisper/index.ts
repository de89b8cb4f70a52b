export { WhisperService, type Segment, type Transcription, type TranscribeOptions } from './service.ts';
export { whisperFamily } from './family.ts';
export { LANGUAGE_NAMES } from './languages.ts';
export { toSrt, toVtt } from './format.ts';
export { logMelSpectrogram, melFilters, CHUNK_SAMPLES, N_FRAMES, SAMPLE_RATE_HZ } from './features.ts';
