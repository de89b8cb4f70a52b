import { describe, expect, it } from 'vitest';
import { auditCsv, keywordCandidate, matchKeyword, resolveOptOutSettings } from '../../src/compliance/index.ts';
import { validateConfig } from '../../src/config/index.ts';

const config = validateConfig({});
const defaults = resolveOptOutSettings(config.compliance.optOut, [], null).keywords;

describe('opt-out keyword matcher', () => {
  it.each([
    ['STOP', 'opt_out', 'STOP'],
    ['stop', 'opt_out', 'STOP'],
    ['Stop.', 'opt_out', 'STOP'],
    ['stop ', 'opt_out', 'STOP'],
    ['  STOP!!\n', 'opt_out', 'STOP'],
    ['StopAll', 'opt_out', 'STOPALL'],
    ['unsubscribe?', 'opt_out', 'UNSUBSCRIBE'],
    ['Cancel', 'opt_out', 'CANCEL'],
    ['end', 'opt_out', 'END'],
    ['QUIT', 'opt_out', 'QUIT'],
    ['\u00a0STOP\u2003', 'opt_out', 'STOP'], // no-break space, em space
    ['\u200bstop\ufeff', 'opt_out', 'STOP'], // zero-width space, BOM
    ['ＳＴＯＰ', 'opt_out', 'STOP'], // full-width letters (NFKC)
    ['start', 'opt_in', 'START'],
    ['Unstop', 'opt_in', 'UNSTOP'],
    ['yes!', 'opt_in', 'YES'],
    ['help', 'help', 'HELP'],
    ['Info?', 'help', 'INFO'],
  ])('%j is %s (%s)', (body, kind, keyword) => {
    expect(matchKeyword(body, defaults)).toEqual({ kind, keyword });
  });

  it.each(['STOP please', 'please stop', 'stop stop', 'STOP 🛑', '"STOP"', 'stopp', 'S T O P', '', '   ', '.', 'STOP'.repeat(20), 'don\u2019t stop'])(
    '%j is not a keyword',
    (body) => {
      expect(matchKeyword(body, defaults)).toBeNull();
    },
  );

  it('never reads past 64 characters of hostile input', () => {
    expect(keywordCandidate(`STOP${' '.repeat(100_000)}`)).toBeNull();
    expect(keywordCandidate(`${'.'.repeat(60)}STOP`)).toBe(`${'.'.repeat(60)}STOP`);
  });

  it("uses a number's own keywords over the global ones, and opt-out wins a word in two sets", () => {
    const numbers = [{ line: 'sim-a', optOut: { optOutKeywords: ['arret', 'stop'], optInKeywords: ['stop', 'Reprendre'], helpText: 'Aide' } }];
    const own = resolveOptOutSettings(config.compliance.optOut, numbers, 'sim-a');
    expect(matchKeyword('Arrêt', own.keywords)).toBeNull(); // accents are not folded
    expect(matchKeyword('ARRET', own.keywords)).toEqual({ kind: 'opt_out', keyword: 'ARRET' });
    expect(matchKeyword('stop', own.keywords)).toEqual({ kind: 'opt_out', keyword: 'STOP' });
    expect(matchKeyword('reprendre', own.keywords)).toEqual({ kind: 'opt_in', keyword: 'REPRENDRE' });
    expect(matchKeyword('quit', own.keywords)).toBeNull();
    expect(matchKeyword('help', own.keywords)).toEqual({ kind: 'help', keyword: 'HELP' });
    expect(own.helpText).toBe('Aide');
    expect(own.confirmation).toBe(config.compliance.optOut.confirmation);
    expect(resolveOptOutSettings(config.compliance.optOut, numbers, 'sim-b').keywords.optOut.has('ARRET')).toBe(false);
  });

  it('rejects a keyword with a space in the config, naming its path', () => {
    expect(() => validateConfig({ compliance: { optOut: { optOutKeywords: ['STOP NOW'] } } })).toThrow(/compliance\.optOut\.optOutKeywords/);
  });
});

describe('audit CSV', () => {
  it('quotes commas and quotes, and defuses spreadsheet formulas from outside', () => {
    const csv = auditCsv([
      { at: '2026-01-01T00:00:00.000Z', numberId: 'num_1', phoneNumber: '+15550000001', contact: '+15557654321', action: 'opt_out', source: 'keyword', keyword: 'STOP', actor: 'contact', note: null },
      { at: '2026-01-02T00:00:00.000Z', numberId: 'num_1', phoneNumber: '+15550000001', contact: '=HYPERLINK("x")', action: 'opt_in', source: 'admin', keyword: null, actor: 'cli:ops', note: 'asked, by phone' },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'at,number_id,phone_number,contact,action,source,keyword,actor,note',
      '2026-01-01T00:00:00.000Z,num_1,+15550000001,+15557654321,opt_out,keyword,STOP,contact,',
      `2026-01-02T00:00:00.000Z,num_1,+15550000001,"'=HYPERLINK(""x"")",opt_in,admin,,cli:ops,"asked, by phone"`,
      '',
    ]);
  });
});
