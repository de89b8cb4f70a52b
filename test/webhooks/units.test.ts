import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, nextRetryDelayMs, parseWebhookReply, signWebhook, type InboundPayload } from '../../src/webhooks/index.ts';

const payload: InboundPayload = {
  event: 'message.inbound',
  channel: 'sms',
  from: '+15551234567',
  to: '+15559876543',
  body: 'Hello agent — ünïcödé 你好 👋🏽',
  media: [],
  timestamp: '2026-02-24T15:30:00.000Z',
  message_id: 'msg_a1b2c3d4-e5f6-7890-abcd-ef1234567890',
};

describe('webhook signing', () => {
  it('puts the signature last, keeps the spec key order, and sends raw UTF-8', () => {
    const { body } = signWebhook(payload, 'whsec_test');
    const text = body.toString('utf8');
    expect(Object.keys(JSON.parse(text))).toEqual([...Object.keys(payload), 'signature']);
    expect(text).toContain('你好 👋🏽');
    expect(text).not.toContain('\\u');
  });

  it('signs the payload without the signature, and the header covers the exact body', () => {
    const { body, headerSignature } = signWebhook(payload, 'whsec_test');
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const { signature, ...rest } = parsed;
    expect(signature).toBe(createHmac('sha256', 'whsec_test').update(JSON.stringify(rest)).digest('hex'));
    expect(headerSignature).toBe(createHmac('sha256', 'whsec_test').update(body).digest('hex'));
    // The spec's Node example re-stringifies the parsed body: it must be byte-identical.
    expect(JSON.stringify(parsed)).toBe(body.toString('utf8'));
  });

  it('changes with the secret', () => {
    expect(signWebhook(payload, 'a').headerSignature).not.toBe(signWebhook(payload, 'b').headerSignature);
  });
});

describe('retry policy', () => {
  it('spreads 8 attempts over about a day, then gives up', () => {
    let total = 0;
    for (let attempt = 1; attempt < 8; attempt++) {
      const delay = nextRetryDelayMs(DEFAULT_RETRY_POLICY, attempt, { status: 500 }, 0.5);
      expect(delay).not.toBeNull();
      total += delay!;
    }
    expect(total / 3_600_000).toBeGreaterThan(20);
    expect(total / 3_600_000).toBeLessThan(28);
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, 8, { status: 500 }, 0.5)).toBeNull();
  });

  it('jitters by at most the configured fraction', () => {
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, 1, {}, 0)).toBe(24_000);
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, 1, {}, 0.999999)).toBe(36_000);
  });

  it('honours Retry-After on 429 and 503, up to a cap', () => {
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, 1, { status: 429, retryAfterS: 120 }, 0.5)).toBe(120_000);
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, 1, { status: 503, retryAfterS: 10 ** 9 }, 0.5)).toBe(3_600_000);
    expect(nextRetryDelayMs(DEFAULT_RETRY_POLICY, 1, { status: 500, retryAfterS: 120 }, 0.5)).toBe(30_000);
  });
});

describe('webhook replies', () => {
  it.each([
    ['{"reply":"Hi there!","action":"respond"}', { action: 'respond', reply: 'Hi there!', media: [] }],
    ['{"action":"respond","reply":"pic","media":["https://x/a.png",5]}', { action: 'respond', reply: 'pic', media: ['https://x/a.png'] }],
    ['{"action":"ignore"}', { action: 'ignore' }],
  ])('reads %s', (text, expected) => {
    expect(parseWebhookReply('application/json', text)).toEqual(expected);
  });

  it.each(['', 'OK', '[]', '{"action":"dance"}', '{"action":"respond"}', '{"action":"respond","reply":""}'])(
    'treats %j as ignore, with a warning',
    (text) => {
      const reply = parseWebhookReply('text/plain', text);
      expect(reply.action).toBe('ignore');
      expect(reply).toHaveProperty('warning');
    },
  );
});
