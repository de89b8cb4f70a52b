import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeDeliver } from '../../src/sms/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const ATTACKER = '+15557654321';
const LINE_NUMBER = '+15550000001';

describe('inbound SMS an attacker controls', () => {
  const tempDir = useTempDir();
  let gw: TestGateway;
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = new WebhookReceiver();
    const url = await receiver.start();
    gw = await startTestGateway(tempDir());
    gw.core.numbers.setWebhook(gw.numberA, { url });
  });
  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  it('cannot fill the modem with malformed PDUs: each is kept and deleted, and the next real message still arrives', async () => {
    // More malformed DELIVERs (each cut off inside its time stamp, each different) than the
    // virtual modem's 30 storage slots. Left on the modem, they filled it and everything
    // after them was refused by the modem for good.
    const malformed = Array.from({ length: 36 }, (_, i) => `00040B915155674523F10000421031${(i + 10).toString().padStart(2, '0')}`);
    const real = encodeDeliver({ originator: ATTACKER, text: 'a real message', timestamp: new Date('2024-03-01T13:05:09Z') });
    expect(gw.network!.deliverPdus(LINE_NUMBER, [...malformed, ...real])).toBe(true);
    await receiver.waitFor(() => receiver.events('message.inbound').length === 1, 20_000);
    expect(receiver.events('message.inbound')[0]!.json.body).toBe('a real message');
    const kept = gw.core.db.prepare('SELECT COUNT(*) AS n FROM sms_undecodable').get() as { n: number };
    expect(kept.n).toBe(malformed.length);
  });

  it('cannot suppress a message by sending one with the same text in the same second first', async () => {
    const at = new Date('2024-03-01T13:05:09Z');
    // A decoy (PID "SME-to-SME protocol", which a phone would not show) sent ahead of the real text.
    const decoy = encodeDeliver({ originator: ATTACKER, text: 'transfer approved', timestamp: at, pid: 0x01 });
    const real = encodeDeliver({ originator: ATTACKER, text: 'transfer approved', timestamp: at });
    gw.network!.deliverPdus(LINE_NUMBER, [...decoy, ...real]);
    await receiver.waitFor(() => receiver.events('message.inbound').length === 2);
    expect(gw.core.messages.list(gw.numberA, { direction: 'inbound', limit: 10 })).toHaveLength(2);
  });
});
