import assert from 'node:assert/strict';
import { consentConfigSchema } from '../../../plugins/consent/config.js';
import { classifyKeyword, normalizeKeyword, type KeywordLists } from '../../../plugins/consent/keywords.js';

const { properties } = consentConfigSchema.properties.keywords;
const lists: KeywordLists = { optOut: properties.optOut.default, optIn: properties.optIn.default, help: properties.help.default } as unknown as KeywordLists;

describe('plugin consent: keyword matching', () => {
  const table: Array<[string | null, string, string?]> = [
    ['STOP', 'opt-out', 'en'], ['stop', 'opt-out'], ['  Stop!  ', 'opt-out'], ['STOP.', 'opt-out'], ['¡stop!', 'opt-out'], ['stop 🛑', 'opt-out'],
    ['Unsubscribe', 'opt-out'], ['opt-out', 'opt-out'], ['Opt out', 'opt-out'], ['STOPALL', 'opt-out'], ['quit', 'opt-out'],
    ['arrêt', 'opt-out', 'fr'], ['ARRET', 'opt-out', 'fr'], ['baja', 'opt-out', 'es'], ['Stopp', 'opt-out', 'de'],
    ['START', 'opt-in', 'en'], ['unstop', 'opt-in'], ['Yes!', 'opt-in'], ['oui', 'opt-in', 'fr'],
    ['help', 'help', 'en'], ['INFO?', 'help'], ['Aide', 'help', 'fr'],
    // Near misses: a whole-message match only.
    ["don't stop the deliveries", 'none'], ['stop it please', 'none'], ['stopping', 'none'], ['STOPS', 'none'], ['s t o p', 'none'],
    ['', 'none'], ['   ', 'none'], ['!!!', 'none'], [null, 'none'], ['hello', 'none'],
  ];
  for (const [text, expected, language] of table) {
    it(`${JSON.stringify(text)} → ${expected}${language ? ` (${language})` : ''}`, () => {
      const match = classifyKeyword(text, lists);
      assert.equal(match.classification, expected);
      if (language) assert.equal(match.language, language);
    });
  }

  it('first-word mode matches the first word, not one further in', () => {
    assert.equal(classifyKeyword('STOP sending me this', lists, 'first-word').classification, 'opt-out');
    assert.equal(classifyKeyword('please stop', lists, 'first-word').classification, 'none');
  });

  it('opt-out wins when a word is in several lists, and custom lists replace the defaults', () => {
    assert.equal(classifyKeyword('end', { optOut: { en: ['END'] }, optIn: { en: ['END'] }, help: {} }).classification, 'opt-out');
    const custom = { optOut: { nl: ['UITSCHRIJVEN'] }, optIn: {}, help: {} };
    assert.equal(classifyKeyword('uitschrijven', custom).classification, 'opt-out');
    assert.equal(classifyKeyword('stop', custom).classification, 'none');
  });

  it('normalises case, edge punctuation and inner whitespace', () => {
    assert.equal(normalizeKeyword('  opt   out!! '), 'OPT OUT');
  });
});
