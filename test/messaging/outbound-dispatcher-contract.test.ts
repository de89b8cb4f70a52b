import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MessageStatusTracker, OutboundDispatcher, type SmsTransport } from '../../src/messaging/index.ts';
import { MessagesRepository, openPostgresStore, type Database, type NumbersRepository, type SqlStore } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';
import { until } from '../helpers/wait.ts';

const NOW = Date.UTC(2026, 10, 28);
const silent = pino({ level: 'silent' });

describeOnEachDialect('outbound dispatcher', (open) => {
  let t: TestStore;
  const stops: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    t = await open();
    const at = new Date(NOW).toISOString();
    await t.store.db
      .insertInto('numbers')
      .values({ id: 'num_a', phone_number: '+15550000001', line_id: 'l1', label: null, webhook_url: 'http://hook.invalid/', webhook_secret: 's', created_at: at, updated_at: at })
      .execute();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await t.close();
  });

  /** A node's dispatcher on `store`, sending on a line that records what it was handed. */
  function node(store: SqlStore<Database>, sent: string[], fail?: (pdu: string) => Error | undefined): OutboundDispatcher {
    const messages = new MessagesRepository(store.db);
    const numbers = { get: () => ({ id: 'num_a', phoneNumber: '+15550000001', webhookUrl: 'http://hook.invalid/' }) } as unknown as NumbersRepository;
    let mr = 0;
    const transport: SmsTransport = {
      readyLines: () => ['l1'],
      sendPdu: async (_line, pdu, hooks) => {
        await hooks?.onSubmitting?.();
        await new Promise((resolve) => setTimeout(resolve, 1));
        const error = fail?.(pdu.hex);
        if (error) throw error;
        sent.push(pdu.hex);
        return { messageRef: mr++ % 256 };
      },
    };
    const dispatcher = new OutboundDispatcher({
      store,
      messages,
      transport,
      tracker: new MessageStatusTracker(messages, numbers, { now: () => NOW }),
      webhooks: { notify: () => undefined },
      clock: { now: () => NOW },
      logger: silent,
      retryDelaysMs: [0],
    });
    stops.push(() => dispatcher.stop(1000));
    return dispatcher;
  }

  async function queue(n: number): Promise<void> {
    const messages = new MessagesRepository(t.store.db);
    for (let i = 0; i < n; i++) {
      const id = `msg_${String(i).padStart(3, '0')}`;
      await messages.insert({ id, numberId: 'num_a', direction: 'outbound', channel: 'sms', contact: '+15551110000', body: 'b', media: [], status: 'queued', encoding: 'gsm7', segments: 1, createdAt: new Date(NOW).toISOString() });
      await messages.insertPart({ messageId: id, seq: 1, pdu: id, tpduLength: 1, lineId: 'l1', queuedAt: NOW - 1000 + i });
    }
  }

  it('sends every queued part once, records it sent and writes its status event; two nodes on one line never send a part twice', async () => {
    const other = t.url === undefined ? undefined : await openPostgresStore<Database>({ url: t.url });
    if (other) stops.unshift(() => other.close());
    await queue(40);
    const sent: string[] = [];
    const a = node(t.store, sent);
    const b = node(other ?? t.store, sent);
    await Promise.all([a.start(), b.start()]);
    const messages = new MessagesRepository(t.store.db);
    await until(async () => (await messages.list('num_a', { status: 'sent', limit: 100 })).length === 40, 15_000, 'all sent');
    expect(sent).toHaveLength(40);
    expect(new Set(sent).size).toBe(40);
    const events = await t.store.db.selectFrom('outbox').select(['message_id', 'payload']).execute();
    expect(events).toHaveLength(40);
    expect(JSON.parse(events[0]!.payload)).toMatchObject({ event: 'message.status', status: 'sent' });
  });

  it('retries a failed part and fails it after its attempts, with its error on the message', async () => {
    await queue(1);
    const sent: string[] = [];
    const d = node(t.store, sent, () => Object.assign(new Error('modem said no'), { code: 'CMS_500' }));
    await d.start();
    const messages = new MessagesRepository(t.store.db);
    const failed = await until(async () => {
      const m = await messages.get('msg_000');
      return m?.status === 'failed' && m;
    }, 15_000, 'failed');
    expect(failed).toMatchObject({ errorCode: 'SEND_FAILED', errorMessage: 'modem said no' });
    expect((await messages.parts('msg_000'))[0]).toMatchObject({ status: 'failed', attempts: 5 });
    expect(sent).toEqual([]);
  });
});
