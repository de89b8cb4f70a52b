import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { encodeWapPush, WAP_PUSH_PORT, WAP_PUSH_SOURCE_PORT } from '../../src/mms/pdu/index.ts';
import { DATABASE_FILE, openDatabase } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const LINE_A = '+15550000001';
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' };
const vectors = JSON.parse(readFileSync(new URL('../fixtures/mms/carrier-pushes.json', import.meta.url), 'utf8')) as {
  notifications: { name: string; hex: string }[];
  pushSmsSets: { name: string; pdus: string[] }[];
};

interface Problems {
  rawPushes: { count: number; items: { line: string; reason: string; errorCode: string | null; errorAt: number | null; size: number; hex: string }[] };
  unfetchable: { count: number; items: { line: string; sender: string | null; size: number | null }[] };
}

describe('inbound MMS the gateway cannot use: kept, and told to the agent and the operator', () => {
  const tempDir = useTempDir();
  let gw: TestGateway | undefined;
  let receiver: WebhookReceiver;
  let hookUrl: string;

  beforeEach(async () => {
    receiver = new WebhookReceiver();
    hookUrl = await receiver.start();
  });
  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  async function problems(): Promise<Problems> {
    return (await (await fetch(`${gw!.url}/admin/mms/inbound-problems`, { headers: ADMIN })).json()) as Problems;
  }

  it('keeps the bytes of an undecodable WAP push instead of dropping them, and lists them for the operator', async () => {
    gw = await startTestGateway(tempDir());
    // A push whose MMS body stops inside X-Mms-Transaction-Id: no decoder can use it.
    const push = encodeWapPush({ transactionId: 9, body: new Uint8Array([0x8c, 0x82, 0x98, 0x41, 0x42]) });
    expect(gw.network!.pushData('6245', LINE_A, push, { destination: WAP_PUSH_PORT, source: WAP_PUSH_SOURCE_PORT, bits: 16 })).toBe(true);
    const found = await until(async () => {
      const p = await problems();
      return p.rawPushes.count === 1 && p;
    }, 15_000, 'the push kept');
    expect(found.rawPushes.items[0]).toMatchObject({ line: 'virtual-1', reason: 'undecodable', errorCode: 'MMS_INVALID_FIELD', size: push.length, hex: Buffer.from(push).toString('hex') });
  });

  it('tells the agent (mms.unfetchable) and the operator when a real carrier notification reaches a line without MMS', async () => {
    gw = await startTestGateway(tempDir(), { virtual: { mms: { enabled: false } } });
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
    // O2 UK's notification as captured: two concatenated 8-bit SMS to port 2948.
    expect(gw.network!.deliverPdus(LINE_A, vectors.pushSmsSets[0]!.pdus)).toBe(true);
    await receiver.waitFor(() => receiver.events('mms.unfetchable').length === 1);
    const hook = receiver.events('mms.unfetchable')[0]!;
    expect(Object.keys(hook.json)).toEqual(['event', 'channel', 'from', 'to', 'size', 'subject', 'expires_at', 'reason', 'timestamp', 'signature']);
    expect(hook.json).toMatchObject({ event: 'mms.unfetchable', channel: 'mms', from: '+447785342749', to: LINE_A, size: 29696, subject: null, reason: 'mms_not_configured' });
    expect(Date.parse(hook.json.expires_at as string) - Date.parse(hook.json.timestamp as string)).toBe(72_000_000);
    const p = await problems();
    expect(p.unfetchable).toEqual({ count: 1, items: [expect.objectContaining({ line: 'virtual-1', sender: '+447785342749', size: 29696 })] });
    expect(p.rawPushes.count).toBe(0);
  });

  it('tells the agent when an MMS reaches a line whose modem only sends MMS (mms.transport at)', async () => {
    gw = await startTestGateway(tempDir(), {
      virtual: { lines: [{ id: 'virtual-1', number: LINE_A, dialect: 'quectel', mmsTransport: 'at' }, { id: 'virtual-2', number: '+15550000002', dialect: 'huawei' }] },
    });
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
    gw.mms.mmsc!.subscriberSend('+15557654321', LINE_A, 'a photo', []);
    await receiver.waitFor(() => receiver.events('mms.unfetchable').length === 1);
    expect(receiver.events('mms.unfetchable')[0]!.json).toMatchObject({ from: '+15557654321', to: LINE_A, reason: 'mms_not_configured' });
    expect(receiver.events('message.inbound')).toEqual([]);
  });

  it('tells the agent at start about notifications left pending on a line that has no MMS now', async () => {
    const dir = tempDir();
    gw = await startTestGateway(dir, { virtual: { mms: { enabled: false } } });
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
    await gw.stop();
    // What a gateway before mms.unfetchable (or one whose line lost its mms block) left behind.
    const db = openDatabase(join(dir, DATABASE_FILE));
    db.prepare(`INSERT INTO mms_inbound (line_id, transaction_id, content_location, sender, size, status, created_at)
                VALUES ('virtual-1', 'T-old', 'http://mmsc.example/T-old', '+15557654321', 4096, 'pending', 1)`).run();
    db.close();
    gw = await startTestGateway(dir, { virtual: { mms: { enabled: false } } });
    await receiver.waitFor(() => receiver.events('mms.unfetchable').length === 1);
    expect(receiver.events('mms.unfetchable')[0]!.json).toMatchObject({ from: '+15557654321', to: LINE_A, size: 4096, expires_at: null });
    expect((await problems()).unfetchable.count).toBe(1);
  });
});
