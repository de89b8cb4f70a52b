import { describe, expect, it } from 'vitest';
import { ANSWER_EXCERPT_CHARS, answerExcerpt } from '../../src/webhooks/dispatcher.ts';

describe('answerExcerpt: what a refusing endpoint said, safe to print', () => {
  it('keeps the status and the body on one line', () => {
    expect(answerExcerpt({ status: 503, text: 'busy,\r\n  try later\n' })).toBe('HTTP 503: busy, try later');
  });

  it('turns control characters (terminal escapes) into spaces', () => {
    expect(answerExcerpt({ status: 500, text: 'a\u001b[2Jb\u0007c\u009bd' })).toBe('HTTP 500: a [2Jb c d');
  });

  it('cuts a long body and says so', () => {
    const out = answerExcerpt({ status: 400, text: 'x'.repeat(5000) });
    expect(out).toBe(`HTTP 400: ${'x'.repeat(ANSWER_EXCERPT_CHARS)}…`);
  });

  it('an empty body is just the status', () => {
    expect(answerExcerpt({ status: 404, text: ' \n' })).toBe('HTTP 404');
  });
});
