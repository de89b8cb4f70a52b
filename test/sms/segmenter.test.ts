import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors/index.ts';
import { decodePdu, encodeSubmit, segmentInfo, type SubmitOptions } from '../../src/sms/index.ts';

/** The text of each part, as a receiving phone would see them. */
function partTexts(text: string, opts: Partial<SubmitOptions> = {}): string[] {
  return encodeSubmit({ to: '+15550001111', text, reference: 1, ...opts }).map((p) => {
    const d = decodePdu(p.hex, { direction: 'outgoing' });
    if (d.type !== 'submit' || d.text === null) throw new Error('expected a text SUBMIT');
    return d.text;
  });
}

describe('segmentInfo', () => {
  it('fits 160 GSM-7 chars in one segment with nothing left', () => {
    expect(segmentInfo('a'.repeat(160))).toMatchObject({ encoding: 'gsm7', segments: 1, charsLeftInLastSegment: 0 });
  });

  it('splits 161 GSM-7 chars into 153 + 8', () => {
    expect(segmentInfo('a'.repeat(161))).toMatchObject({ segments: 2, unitsPerSegment: 153, charsLeftInLastSegment: 145 });
    expect(partTexts('a'.repeat(161)).map((t) => t.length)).toEqual([153, 8]);
  });

  it('fills exactly 2 parts with 306 chars and starts a third at 307', () => {
    expect(segmentInfo('a'.repeat(306)).segments).toBe(2);
    expect(segmentInfo('a'.repeat(307)).segments).toBe(3);
  });

  it('uses 152 septets per part with a 16-bit reference', () => {
    expect(segmentInfo('a'.repeat(305), { ref16: true })).toMatchObject({ segments: 3, unitsPerSegment: 152 });
    expect(partTexts('a'.repeat(305), { ref16: true }).map((t) => t.length)).toEqual([152, 152, 1]);
  });

  it('counts extension characters as two septets', () => {
    expect(segmentInfo('€'.repeat(80))).toMatchObject({ encoding: 'gsm7', segments: 1, units: 160, charsLeftInLastSegment: 0 });
    expect(segmentInfo(`a${'€'.repeat(80)}`).segments).toBe(2);
  });

  it('never splits an escape pair at the 153/154 boundary', () => {
    const text = `${'a'.repeat(152)}€${'b'.repeat(7)}`;
    expect(segmentInfo(text)).toMatchObject({ segments: 2, units: 161, charsLeftInLastSegment: 144 });
    expect(partTexts(text)).toEqual(['a'.repeat(152), `€${'b'.repeat(7)}`]);
  });

  it('fits 70 UCS-2 units in one segment and splits 71 into 67 + 4', () => {
    expect(segmentInfo('你'.repeat(70))).toMatchObject({ encoding: 'ucs2', segments: 1, charsLeftInLastSegment: 0 });
    expect(segmentInfo('你'.repeat(71))).toMatchObject({ segments: 2, unitsPerSegment: 67, charsLeftInLastSegment: 63 });
    expect(segmentInfo('你'.repeat(134)).segments).toBe(2);
    expect(segmentInfo('你'.repeat(135)).segments).toBe(3);
    expect(segmentInfo('你'.repeat(67), { ref16: true }).segments).toBe(1);
    expect(segmentInfo('你'.repeat(71), { ref16: true })).toMatchObject({ unitsPerSegment: 66, charsLeftInLastSegment: 61 });
  });

  it('never splits a surrogate pair at the 67/68 boundary', () => {
    const text = `${'a'.repeat(66)}😀${'b'.repeat(10)}`;
    expect(segmentInfo(text)).toMatchObject({ encoding: 'ucs2', segments: 2, units: 78 });
    expect(partTexts(text)).toEqual(['a'.repeat(66), `😀${'b'.repeat(10)}`]);
  });

  it('fits an emoji exactly at 70 units in one segment', () => {
    expect(segmentInfo(`${'a'.repeat(68)}😀`)).toMatchObject({ segments: 1, charsLeftInLastSegment: 0 });
    expect(segmentInfo(`${'a'.repeat(69)}😀`).segments).toBe(2);
  });

  it('keeps a ZWJ family, a flag and a skin-tone emoji whole across parts', () => {
    const family = '👨‍👩‍👧';
    const text = `${'a'.repeat(60)}${family}🇫🇷👍🏽${'b'.repeat(60)}`;
    const parts = partTexts(text);
    expect(parts.join('')).toBe(text);
    expect(parts[0]).toBe('a'.repeat(60));
    expect(parts[1]?.startsWith(family)).toBe(true);
  });

  it('cuts a grapheme cluster larger than a part between code points', () => {
    const zalgo = `e${'\u0301'.repeat(100)}`;
    const parts = partTexts(zalgo);
    expect(parts.join('')).toBe(zalgo);
    expect(parts.map((p) => p.length)).toEqual([67, 34]);
  });

  it('counts CR LF as two characters', () => {
    expect(segmentInfo('\r\n'.repeat(80))).toMatchObject({ encoding: 'gsm7', segments: 1, units: 160 });
    expect(segmentInfo(`${'\r\n'.repeat(80)}😀`)).toMatchObject({ encoding: 'ucs2', units: 162, segments: 3 });
  });

  it('refuses text over the maximum parts with a 400 that states the limit', () => {
    const text = 'a'.repeat(153 * 10 + 1);
    expect(segmentInfo('a'.repeat(153 * 10)).segments).toBe(10);
    expect(() => segmentInfo(text)).toThrow(ValidationError);
    expect(() => segmentInfo(text)).toThrow(/limit is 10 segments/);
    expect(() => segmentInfo('a'.repeat(161), { maxParts: 1 })).toThrow(/limit is 1 segments/);
    try {
      segmentInfo(text);
    } catch (err) {
      expect((err as ValidationError).status).toBe(400);
    }
    expect(segmentInfo(text, { allowOverLimit: true })).toMatchObject({ segments: 11, withinLimit: false });
  });

  it('reports an empty text as one GSM-7 segment with 160 left', () => {
    expect(segmentInfo('')).toMatchObject({ encoding: 'gsm7', segments: 1, charsLeftInLastSegment: 160, characters: 0 });
  });

  it('counts characters as code points', () => {
    expect(segmentInfo('😀😀').characters).toBe(2);
  });
});

describe('smart encoding', () => {
  const curly = '“Hello” — it’s… done';

  it('is off unless asked', () => {
    expect(segmentInfo(curly)).toMatchObject({ encoding: 'ucs2', smartEncoded: false });
  });

  it('replaces look-alikes when that makes the text GSM-7', () => {
    expect(segmentInfo(curly, { smart: true })).toMatchObject({ encoding: 'gsm7', smartEncoded: true });
    expect(partTexts(curly, { smart: true })).toEqual(['"Hello" - it\'s... done']);
  });

  it('keeps the original when the text needs UCS-2 anyway', () => {
    expect(segmentInfo('“你好”', { smart: true })).toMatchObject({ encoding: 'ucs2', smartEncoded: false });
    expect(partTexts('“你好”', { smart: true })).toEqual(['“你好”']);
  });

  it('turns a non-breaking space into a space', () => {
    expect(partTexts('a\u00A0b', { smart: true })).toEqual(['a b']);
  });
});

describe('national language tables (opt-in)', () => {
  const turkish = 'Günaydın, İstanbul! Şimdi çay içiyoruz. '.repeat(4);

  it('uses UCS-2 for Turkish text by default', () => {
    expect(segmentInfo(turkish)).toMatchObject({ encoding: 'ucs2', segments: 3 });
  });

  it('uses the Turkish tables when enabled and they save parts', () => {
    const info = segmentInfo(turkish, { nationalLanguages: ['turkish'] });
    expect(info.encoding).toBe('gsm7');
    expect(info.segments).toBe(2);
    expect(info.shift).not.toBeNull();
    expect(partTexts(turkish, { nationalLanguages: ['turkish'] }).join('')).toBe(turkish);
  });

  it('does not use a national table when the default alphabet is as cheap', () => {
    expect(segmentInfo('hello', { nationalLanguages: ['turkish', 'spanish'] }).shift).toBeNull();
  });

  it('encodes Hindi with the Hindi locking shift table', () => {
    const hindi = 'नमस्ते दुनिया, आप कैसे हैं?';
    const info = segmentInfo(hindi, { nationalLanguages: ['hindi'] });
    expect(info).toMatchObject({ encoding: 'gsm7', segments: 1, shift: { locking: 'hindi' } });
    expect(partTexts(hindi, { nationalLanguages: ['hindi'] })).toEqual([hindi]);
  });
});
