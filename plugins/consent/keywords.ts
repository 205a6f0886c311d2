/**
 * Keyword classification of an inbound message: a pure function, so it is tested as a table and
 * reused by the classify action and the compliance docs.
 *
 * The rule: fold case, drop whitespace, punctuation and symbols (emoji) around the text, collapse
 * inner whitespace; accents are kept, so lists hold both spellings (ARRÊT and ARRET); then, in `whole` mode, the message must *be* a keyword — "don't stop the
 * deliveries" is not an opt-out. In `first-word` mode the first word (or the whole text) counts.
 * Opt-out wins over opt-in and help when a word is in several lists: being wrongly unsubscribed
 * is cheaper than being wrongly messaged.
 */
export type KeywordKind = 'opt-out' | 'opt-in' | 'help';
export type Classification = KeywordKind | 'none';

export interface KeywordLists {
  optOut: Record<string, string[]>;
  optIn: Record<string, string[]>;
  help: Record<string, string[]>;
}

export interface KeywordMatch {
  classification: Classification;
  /** The keyword as listed, when one matched. */
  keyword?: string;
  /** The language whose list held it. */
  language?: string;
}

const EDGE_PUNCTUATION = /^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu;

/** Folds a text for comparison: upper case, no surrounding whitespace or punctuation, single inner spaces. */
export function normalizeKeyword(text: string): string {
  return text.normalize('NFC').replace(EDGE_PUNCTUATION, '').replace(/\s+/g, ' ').toUpperCase();
}

/** Classifies `text` (null for a message without text) against the lists. */
export function classifyKeyword(text: string | null | undefined, lists: KeywordLists, mode: 'whole' | 'first-word' = 'whole'): KeywordMatch {
  if (!text) return { classification: 'none' };
  const whole = normalizeKeyword(text);
  if (whole === '') return { classification: 'none' };
  const candidates = mode === 'whole' ? [whole] : [whole, normalizeKeyword(whole.split(' ')[0] ?? '')];
  const order: Array<[KeywordKind, Record<string, string[]>]> = [['opt-out', lists.optOut], ['opt-in', lists.optIn], ['help', lists.help]];
  for (const [kind, byLanguage] of order) {
    for (const [language, words] of Object.entries(byLanguage)) {
      const keyword = words.find((word) => candidates.includes(normalizeKeyword(word)));
      if (keyword) return { classification: kind, keyword, language };
    }
  }
  return { classification: 'none' };
}
