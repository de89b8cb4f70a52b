/**
 * Orpheus voices: the eight English voices of orpheus-3b-0.1-ft and those of the multilingual
 * research release, each with the model that speaks it and the name it was trained on (the
 * prompt is `<promptName>: <text>`).
 */
export interface Voice {
  id: string;
  name: string;
  /** BCP 47 language tag. */
  language: string;
  /** The TTS model (registry name) that speaks this voice. */
  model: string;
  /** The speaker name in the prompt, as the model was fine-tuned on it. */
  promptName: string;
}

export const TTS_MODELS = {
  en: 'orpheus-3b',
  fr: 'orpheus-3b-fr',
  de: 'orpheus-3b-de',
  ko: 'orpheus-3b-ko',
  hi: 'orpheus-3b-hi',
  zh: 'orpheus-3b-zh',
  esIt: 'orpheus-3b-es-it',
} as const;

const v = (id: string, name: string, language: string, model: string, promptName = id): Voice => ({ id, name, language, model, promptName });

export const VOICES: readonly Voice[] = Object.freeze([
  // English, in the order of conversational realism the Orpheus authors give.
  v('tara', 'Tara', 'en', TTS_MODELS.en),
  v('leah', 'Leah', 'en', TTS_MODELS.en),
  v('jess', 'Jess', 'en', TTS_MODELS.en),
  v('leo', 'Leo', 'en', TTS_MODELS.en),
  v('dan', 'Dan', 'en', TTS_MODELS.en),
  v('mia', 'Mia', 'en', TTS_MODELS.en),
  v('zac', 'Zac', 'en', TTS_MODELS.en),
  v('zoe', 'Zoe', 'en', TTS_MODELS.en),
  v('pierre', 'Pierre', 'fr', TTS_MODELS.fr),
  v('amelie', 'Amelie', 'fr', TTS_MODELS.fr),
  v('marie', 'Marie', 'fr', TTS_MODELS.fr),
  v('jana', 'Jana', 'de', TTS_MODELS.de),
  v('thomas', 'Thomas', 'de', TTS_MODELS.de),
  v('max', 'Max', 'de', TTS_MODELS.de),
  v('yuna', '유나 (Yuna)', 'ko', TTS_MODELS.ko, '유나'),
  v('junseo', '준서 (Junseo)', 'ko', TTS_MODELS.ko, '준서'),
  v('ritika', 'ऋतिका (Ritika)', 'hi', TTS_MODELS.hi, 'ऋतिका'),
  v('changle', '长乐 (Changle)', 'zh', TTS_MODELS.zh, '长乐'),
  v('baizhi', '白芷 (Baizhi)', 'zh', TTS_MODELS.zh, '白芷'),
  v('javi', 'Javi', 'es', TTS_MODELS.esIt),
  v('sergio', 'Sergio', 'es', TTS_MODELS.esIt),
  v('maria', 'Maria', 'es', TTS_MODELS.esIt),
  v('pietro', 'Pietro', 'it', TTS_MODELS.esIt),
  v('giulia', 'Giulia', 'it', TTS_MODELS.esIt),
  v('carlo', 'Carlo', 'it', TTS_MODELS.esIt),
]);

const BY_KEY = new Map<string, Voice>();
for (const voice of VOICES) {
  BY_KEY.set(voice.id, voice);
  BY_KEY.set(voice.promptName.toLowerCase(), voice);
}

/** A voice by id (case-insensitive) or by the native-script name it was trained on. */
export function findVoice(idOrName: string): Voice | undefined {
  return BY_KEY.get(idOrName.trim().toLowerCase());
}

/** Emotion tags the English model was fine-tuned on; they are passed through to the prompt as written. */
export const EMOTION_TAGS = ['<laugh>', '<chuckle>', '<sigh>', '<cough>', '<sniffle>', '<groan>', '<yawn>', '<gasp>'] as const;
