import { createHmac, timingSafeEqual } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodeDeliver, type DeliverOptions } from '../../src/sms/index.ts';
import { until } from '../helpers/wait.ts';
import type { ReceivedWebhook } from '../helpers/webhook-receiver.ts';
import { useWebhookGateway } from '../helpers/webhook-gateway.ts';

const SENDER = '+15557654321';
const LINE_NUMBER = '+15550000001';
const STORAGES = ['SM', 'ME', 'MT', 'SR'];
const SECOND = new Date('2024-03-01T13:05:09Z');

/** One single-part DELIVER, hex with an (empty) SMSC field. */
function pdu(opts: Partial<DeliverOptions>): string {
  const parts = encodeDeliver({ originator: SENDER, timestamp: SECOND, ...opts });
  expect(parts).toHaveLength(1);
  return parts[0] as string;
}

describe('inbound fidelity: every received PDU reaches the agent as what it is (virtual modem on a PTY, loopback webhook)', () => {
  const rig = useWebhookGateway();

  /**
   * Carries `pdus` to line 1 and waits until the modem has taken every one and the gateway has
   * deleted every one (so each was decoded and stored, or kept as undecodable).
   */
  async function deliverAll(pdus: string[]): Promise<void> {
    const network = rig.gw.network!;
    let arrived = 0;
    const onDelivered = ({ lineId, kind }: { lineId: string; kind: string }) => {
      if (lineId === 'virtual-1' && kind === 'deliver') arrived++;
    };
    network.on('delivered', onDelivered);
    try {
      expect(network.deliverPdus(LINE_NUMBER, pdus)).toBe(true);
      const modem = network.line('virtual-1');
      await until(() => arrived >= pdus.length && STORAGES.every((mem) => modem.store.used(mem) === 0), 15_000, 'every PDU read and deleted');
    } finally {
      network.off('delivered', onDelivered);
    }
  }

  const inboundRows = () => rig.gw.core.messages.list(rig.gw.numberA, { direction: 'inbound', limit: 50 });
  const hooks = () => rig.receiver.events('message.inbound');

  it('keeps two messages apart that differ only in PID, DCS or bytes; a byte-identical TPDU is one message', async () => {
    const plain = pdu({ text: 'same words' });
    const otherPid = pdu({ text: 'same words', pid: 0x01 });
    const otherClass = pdu({ text: 'same words', messageClass: 1 });
    const dataA = pdu({ data: Uint8Array.from([1, 2, 3]) });
    const dataB = pdu({ data: Uint8Array.from([4, 5, 6]) });
    // The network delivering the very same TPDU again (same SCTS to the second): a true duplicate.
    await deliverAll([plain, otherPid, otherClass, dataA, dataB, plain, dataA]);
    expect(await inboundRows()).toHaveLength(5);
    await rig.receiver.waitFor(() => hooks().length === 5);
    const texts = hooks().filter((h) => h.json.data === undefined);
    expect(texts.map((h) => h.json.body)).toEqual(['same words', 'same words', 'same words']);
    const data = hooks()
      .filter((h) => h.json.data !== undefined)
      .map((h) => h.json.data as { bytes: string });
    expect(data.map((d) => Buffer.from(d.bytes, 'base64').toString('hex')).sort()).toEqual(['010203', '040506']);
    expect(new Set(hooks().map((h) => h.json.message_id)).size).toBe(5);
  });

  it('delivers 8-bit data with its bytes and UDH ports, concatenated parts joined, signed so both spec examples verify', async () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    const long = encodeDeliver({ originator: SENDER, timestamp: SECOND, data: payload, ports: { destination: 5000, source: 16001, bits: 16 }, reference: 77, maxParts: 10 });
    expect(long.length).toBeGreaterThan(1);
    const short = pdu({ data: Uint8Array.from([0xca, 0xfe]), ports: { destination: 0x50, source: 0x51, bits: 8 } });
    await deliverAll([...long.reverse(), short]);
    await rig.receiver.waitFor(() => hooks().length === 2);

    const byPort = (port: number) => hooks().find((h) => (h.json.data as { ports: { destination: number } }).ports.destination === port) as ReceivedWebhook;
    const joined = byPort(5000);
    expect(Object.keys(joined.json)).toEqual(['event', 'channel', 'from', 'to', 'body', 'media', 'timestamp', 'message_id', 'data', 'signature']);
    expect(joined.json).toMatchObject({ event: 'message.inbound', channel: 'sms', from: SENDER, to: LINE_NUMBER, body: '', media: [] });
    expect(joined.json.data).toEqual({ encoding: 'base64', bytes: Buffer.from(payload).toString('base64'), ports: { source: 16001, destination: 5000 } });
    expect(byPort(0x50).json.data).toEqual({ encoding: 'base64', bytes: Buffer.from([0xca, 0xfe]).toString('base64'), ports: { source: 0x51, destination: 0x50 } });

    const secret = rig.gw.core.numbers.get(rig.gw.numberA).webhookSecret;
    const header = String(joined.headers['x-agentphone-signature']);
    // Node example: HMAC of JSON.stringify(req.body); Python example: HMAC of the raw bytes.
    const nodeExpected = createHmac('sha256', secret).update(JSON.stringify(JSON.parse(joined.raw.toString('utf8')))).digest('hex');
    expect(timingSafeEqual(Buffer.from(header, 'hex'), Buffer.from(nodeExpected, 'hex'))).toBe(true);
    const python = spawnSync(
      'python3',
      ['-c', 'import hmac,hashlib,sys; raw=sys.stdin.buffer.read(); print(hmac.compare_digest(sys.argv[2], hmac.new(sys.argv[1].encode(), raw, hashlib.sha256).hexdigest()))', secret, header],
      { input: joined.raw },
    );
    expect(python.stdout.toString().trim()).toBe('True');
    const { signature, ...unsigned } = joined.json;
    expect(signature).toBe(createHmac('sha256', secret).update(JSON.stringify(unsigned)).digest('hex'));

    // Stored with the message, and shown by the messages API.
    const res = await rig.gw.api(`/api/numbers/${rig.gw.numberA}/messages?direction=inbound`);
    expect(res.status).toBe(200);
    const listed = (await res.json()) as { messages: Array<{ id: string; body: string; segments: number; data?: unknown }> };
    const listedJoined = listed.messages.find((m) => m.id === joined.json.message_id);
    expect(listedJoined).toMatchObject({ body: '', segments: long.length, data: joined.json.data });
    const one = (await (await rig.gw.api(`/api/numbers/${rig.gw.numberA}/messages/${String(byPort(0x50).json.message_id)}`)).json()) as { data?: unknown };
    expect(one.data).toEqual(byPort(0x50).json.data);
  });

  it('keeps plain text payloads exactly the spec’s (no data key)', async () => {
    await deliverAll([pdu({ text: 'just text' })]);
    await rig.receiver.waitFor(() => hooks().length === 1);
    expect(Object.keys(hooks()[0]!.json)).toEqual(['event', 'channel', 'from', 'to', 'body', 'media', 'timestamp', 'message_id', 'signature']);
    const listed = (await (await rig.gw.api(`/api/numbers/${rig.gw.numberA}/messages?direction=inbound`)).json()) as { messages: object[] };
    expect(listed.messages[0]).not.toHaveProperty('data');
  });

  it('delivers an empty message with TP-UDHI and TP-UDL 0, and a 1999 time stamp as 1999', async () => {
    // SMSC 00, first octet 0x44 (UDHI), OA +15557654321, PID 00, DCS 00, SCTS 99-12-31 23:59:59 +00, UDL 0.
    const empty = '00440B915155674523F10000992113329595' + '0000';
    await deliverAll([empty]);
    await rig.receiver.waitFor(() => hooks().length === 1);
    expect(hooks()[0]!.json).toMatchObject({ from: SENDER, body: '', timestamp: '1999-12-31T23:59:59.000Z' });
  });

  it('keeps an undecodable PDU for the operator and deletes it from the modem instead of leaving it there', async () => {
    // A DELIVER cut off inside its time stamp.
    const truncated = '00040B915155674523F1000042103191';
    await deliverAll([truncated, pdu({ text: 'after it' })]);
    const kept = rig.gw.core.db.prepare('SELECT line_id, pdu, error_code, error_offset FROM sms_undecodable').all();
    expect(kept).toEqual([{ line_id: 'virtual-1', pdu: truncated, error_code: 'PDU_TRUNCATED', error_offset: expect.any(Number) }]);
    await rig.receiver.waitFor(() => hooks().length === 1);
    expect(hooks()[0]!.json.body).toBe('after it');
  });
});
