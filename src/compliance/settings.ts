import type { NumberConfig, OptOutConfig } from '../config/index.ts';
import type { KeywordSets } from './keywords.ts';

/** One number's opt-out settings, resolved (global values under the number's own). */
export interface OptOutSettings {
  enabled: boolean;
  keywords: KeywordSets;
  confirmation: string;
  optInConfirmation: string;
  helpText: string;
}

const upper = (words: readonly string[]): ReadonlySet<string> => new Set(words.map((w) => w.normalize('NFKC').toUpperCase()));

/** The settings for a number on `lineId`: compliance.optOut under the numbers[] entry for that line. */
export function resolveOptOutSettings(global: OptOutConfig, numbers: readonly NumberConfig[], lineId: string | null): OptOutSettings {
  const own = lineId === null ? undefined : numbers.find((n) => n.line === lineId)?.optOut;
  const s = { ...global, ...own };
  return {
    enabled: s.enabled,
    keywords: { optOut: upper(s.optOutKeywords), optIn: upper(s.optInKeywords), help: upper(s.helpKeywords) },
    confirmation: s.confirmation,
    optInConfirmation: s.optInConfirmation,
    helpText: s.helpText,
  };
}
