import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { NumbersRepository, openDatabase, OutboxRepository, type Db } from '../../src/store/index.ts';
import { WebhookDispatcher, type HttpPost } from '../../src/webhooks/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';

describe('held webhook events (dispatcher and outbox on a real SQLite file)', () => {
  const tempDir = useTempDir();
  let db: Db | undefined;
  let dispatcher: WebhookDispatcher | undefined;

  afterEach(async () => {
    await dispatcher?.stop();
    db?.close();
  });

  function setup() {
    db = openDatabase(join(tempDir(), 'agentphone.db'));
    const numbers = new NumbersRepository(db);
    const number = numbers.bindLine({ phoneNumber: '+15550000001', lineId: 'l1', newId: 'num_1', newSecret: 'whsec_x', now: new Date().toISOString() });
    const outbox = new OutboxRepository(db);
    const state = { url: null as string | null, bodies: [] as string[], onPost: (_n: number) => {} };
    const post: HttpPost = async (req) => {
      state.bodies.push((JSON.parse(req.body.toString('utf8')) as { body: string }).body);
      state.onPost(state.bodies.length);
      return { status: 200, contentType: 'application/json', retryAfterS: undefined, text: '{"action":"ignore"}' };
    };
    dispatcher = new WebhookDispatcher({
      db,
      outbox,
      post,
      clock: systemClock,
      logger: silentLogger(),
      target: () => ({ url: state.url, secret: 'whsec_x', timeoutMs: 1000 }),
      onReply: () => {},
      pollMs: 20,
    });
    const add = (body: string, at: number) =>
      outbox.insert({ id: `evt_${body}`, numberId: number.id, event: 'message.inbound', messageId: null, payload: JSON.stringify({ event: 'message.inbound', body }), now: at });
    return { outbox, number, state, add, dispatcher };
  }

  it('holds while there is no URL (no attempt counted, nothing dead) and releases oldest first once there is one', async () => {
    const { outbox, number, state, add, dispatcher: d } = setup();
    const t = Date.now();
    for (const [i, body] of ['a', 'b', 'c', 'd'].entries()) add(body, t + i);
    d.start();
    await until(() => outbox.listForNumber(number.id, 'held', 10).length === 4, 5000, '4 held');
    expect(outbox.listForNumber(number.id, 'dead', 10)).toEqual([]);
    expect(outbox.listForNumber(number.id, 'held', 10).every((e) => e.attempts === 0 && e.lastError === null)).toBe(true);
    state.url = 'http://agent.example/hook';
    d.releaseHeld(number.id);
    d.releaseHeld(number.id); // a second wake-up while draining sends nothing twice
    await until(() => outbox.listForNumber(number.id, 'delivered', 10).length === 4, 5000, '4 delivered');
    expect(state.bodies).toEqual(['a', 'b', 'c', 'd']);
  });

  it('stops releasing when the URL is removed again; the rest stay held and go when it is back', async () => {
    const { outbox, number, state, add, dispatcher: d } = setup();
    const t = Date.now();
    for (const [i, body] of ['a', 'b', 'c'].entries()) add(body, t + i);
    d.start();
    await until(() => outbox.listForNumber(number.id, 'held', 10).length === 3, 5000, '3 held');
    state.onPost = (n) => {
      if (n === 1) state.url = null;
    };
    state.url = 'http://agent.example/hook';
    d.releaseHeld(number.id);
    await until(() => outbox.listForNumber(number.id, 'delivered', 10).length === 1 && outbox.listForNumber(number.id, 'held', 10).length === 2, 5000, 'one sent, two held');
    expect(state.bodies).toEqual(['a']);
    state.onPost = () => {};
    state.url = 'http://agent.example/hook';
    d.releaseHeld(number.id);
    await until(() => outbox.listForNumber(number.id, 'delivered', 10).length === 3, 5000, 'all delivered');
    expect(state.bodies).toEqual(['a', 'b', 'c']);
  });
});
