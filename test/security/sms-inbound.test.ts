import { describe, expect, it } from 'vitest';
import { encodeDeliver } from '../../src/sms/index.ts';
import { useWebhookGateway } from '../helpers/webhook-gateway.ts';

const ATTACKER = '+15557654321';
const LINE_NUMBER = '+15550000001';

describe('inbound SMS an attacker controls', () => {
  const rig = useWebhookGateway();

  it('cannot fill the modem with malformed PDUs: each is kept and deleted, and the next real message still arrives', async () => {
    // More malformed DELIVERs (each cut off inside its time stamp, each different) than the
    // virtual modem's 30 storage slots. Left on the modem, they filled it and everything
    // after them was refused by the modem for good.
    const malformed = Array.from({ length: 36 }, (_, i) => `00040B915155674523F10000421031${(i + 10).toString().padStart(2, '0')}`);
    const real = encodeDeliver({ originator: ATTACKER, text: 'a real message', timestamp: new Date('2024-03-01T13:05:09Z') });
    expect(rig.gw.network!.deliverPdus(LINE_NUMBER, [...malformed, ...real])).toBe(true);
    await rig.receiver.waitFor(() => rig.receiver.events('message.inbound').length === 1, 20_000);
    expect(rig.receiver.events('message.inbound')[0]!.json.body).toBe('a real message');
    const kept = rig.gw.core.db.prepare('SELECT COUNT(*) AS n FROM sms_undecodable').get() as { n: number };
    expect(kept.n).toBe(malformed.length);
  });

  it('cannot suppress a message by sending one with the same text in the same second first', async () => {
    const at = new Date('2024-03-01T13:05:09Z');
    // A decoy (PID "SME-to-SME protocol", which a phone would not show) sent ahead of the real text.
    const decoy = encodeDeliver({ originator: ATTACKER, text: 'transfer approved', timestamp: at, pid: 0x01 });
    const real = encodeDeliver({ originator: ATTACKER, text: 'transfer approved', timestamp: at });
    rig.gw.network!.deliverPdus(LINE_NUMBER, [...decoy, ...real]);
    await rig.receiver.waitFor(() => rig.receiver.events('message.inbound').length === 2);
    expect(await rig.gw.core.messages.list(rig.gw.numberA, { direction: 'inbound', limit: 10 })).toHaveLength(2);
  });
});
