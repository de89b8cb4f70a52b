import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const SUBSCRIBER = '+15557654321';
/** Half a UTF-16 pair on its own: JSON carries it as an escape ("\ud83d"), which parses to a lone surrogate. */
const UNPAIRED = ['hi \ud83d', '\ude00 there', 'two highs \ud83d\ud83d', 'low before high \udc4b\ud83d'];

describe('an SMS body with an unpaired UTF-16 surrogate', () => {
  const tempDir = useTempDir();
  let gw: TestGateway;
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    gw = await startTestGateway(tempDir());
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
  });
  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  const outbound = () => gw.core.messages.list(gw.numberA, { direction: 'outbound', limit: 100 });

  it.each(UNPAIRED)('is refused by the send route with a 400 that names body: %j', async (body) => {
    const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'Bad Request', message: expect.stringMatching(/^body: contains an unpaired surrogate/) });
    expect(await outbound()).toEqual([]);
  });

  it('while whole pairs (emoji) still go out as they were written', async () => {
    const body = 'hi 👋🏽 😀';
    const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body }) });
    expect(res.status).toBe(200);
    await until(() => gw.network!.inbox(SUBSCRIBER).length === 1, 15_000, 'the subscriber got it');
    expect(gw.network!.inbox(SUBSCRIBER)[0]!.body).toBe(body);
    expect((await outbound()).map((m) => m.body)).toEqual([body]);
  });

  it('is refused as an inline webhook reply too: nothing is stored or sent', async () => {
    receiver.answer = () => ({ status: 200, body: { action: 'respond', reply: 'pong \ud83d' } });
    gw.network!.text(SUBSCRIBER, '+15550000001', 'ping');
    await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
    const [event] = (await gw.core.outbox.listForNumber(gw.numberA, null, 10)).filter((e) => e.event === 'message.inbound');
    // The event is answered (delivered); the reply it carried is refused in the same transaction.
    await until(async () => (await gw.core.outbox.get(event!.id))?.status === 'delivered', 10_000, 'event delivered');
    expect(await outbound()).toEqual([]);
    expect(gw.network!.inbox(SUBSCRIBER)).toEqual([]);
  });
});
