import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors/index.ts';
import { decodePdu, encodeSubmit } from '../../src/sms/index.ts';
import type { Dialect } from '../../src/modem/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { waitForEvent } from '../fakes/wait.ts';
import { LINE_NUMBER, SUBSCRIBER, rig, started, type Rig } from './support.ts';

const NO_POLL = { healthIntervalMs: 3_600_000 };

let current: Rig | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

function recordCommands(r: Rig): string[] {
  const commands: string[] = [];
  r.modem.on('command', (c) => commands.push(c));
  return commands;
}

const cnmas = (commands: string[]) => commands.filter((c) => c.startsWith('AT+CNMA'));

/** The network's second delivery to the line (the first being the +CMT that went unacknowledged). */
function secondDelivery(r: Rig): Promise<unknown> {
  let seen = 0;
  return waitForEvent(r.network, 'delivered', () => ++seen === 2);
}

// quectel: a CSMS 1 profile; generic: a CSMS 0 profile, which direct mode must switch to 1.
describe.each(['quectel', 'generic'] as Dialect[])('direct delivery on a virtual %s modem', (dialect) => {
  it('hands a text over as +CMT and acknowledges it with AT+CNMA only when confirmed', async () => {
    const r = rig(dialect, { driver: { ...NO_POLL, deliveryMode: 'direct' } });
    const commands = recordCommands(r);
    current = await started(r);
    expect(commands).toContain('AT+CSMS=1');
    expect(commands.filter((c) => c.startsWith('AT+CNMI='))).toEqual(['AT+CNMI=2,2,0,1,0']);
    expect(r.driver.status().delivery).toBe('direct');

    const next = r.nextPdu('deliver');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'straight to you');
    const pdu = await next;
    expect(pdu.storage).toBeUndefined();
    expect(decodePdu(pdu.pdu, { hasSmsc: true, direction: 'incoming' })).toMatchObject({ type: 'deliver', text: 'straight to you' });
    for (const mem of ['SM', 'ME', 'SR']) expect(r.modem.store.has(mem) ? r.modem.store.used(mem) : 0).toBe(0);
    expect(cnmas(commands)).toEqual([]);
    const acked = waitForEvent(r.modem, 'command', (c: string) => c === 'AT+CNMA');
    await pdu.confirm();
    await acked;

    // The status report of a send comes the same way (+CDS) and is acknowledged the same way.
    const report = r.nextPdu('status-report');
    const [submit] = encodeSubmit({ to: SUBSCRIBER, text: 'report me', requestStatusReport: true });
    await r.driver.send(submit!);
    const sr = await report;
    expect(sr.storage).toBeUndefined();
    expect(cnmas(commands)).toEqual(['AT+CNMA']);
    await sr.confirm();
    expect(cnmas(commands)).toEqual(['AT+CNMA', 'AT+CNMA']);
  });
});

describe('direct delivery when an acknowledgement never comes', () => {
  it('the modem turns routing off and the network delivers again into storage; the health poll turns routing back on and reads it', async () => {
    const r = rig('quectel', { driver: { ...NO_POLL, deliveryMode: 'direct' }, network: { redeliverAfterMs: 0 } });
    const commands = recordCommands(r);
    current = await started(r);
    r.modem.ackTimeoutMs = 20; // no AT+CNMA will come in this test: nothing races this timer

    const first = r.nextPdu('deliver');
    const undelivered = waitForEvent(r.network, 'undelivered');
    const redelivered = secondDelivery(r);
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'never acked');
    await first; // handed out but never confirmed: as when storing it failed
    await undelivered;
    await redelivered;
    expect(r.modem.store.used('ME')).toBe(1);

    const again = r.nextPdu('deliver');
    await r.driver.checkHealth();
    const stored = await again;
    expect(stored.storage).toBe('ME');
    expect(decodePdu(stored.pdu, { hasSmsc: true, direction: 'incoming' })).toMatchObject({ text: 'never acked' });
    expect(commands.filter((c) => c.startsWith('AT+CNMI=')).slice(-1)).toEqual(['AT+CNMI=2,2,0,1,0']);
    await stored.confirm();
    expect(r.modem.store.used('ME')).toBe(0);
    expect(cnmas(commands)).toEqual([]);
    expect(r.driver.events().map((e) => e.type)).toContain('routing');
  });

  it('does not acknowledge an older +CMT once a newer one came (AT+CNMA would ack the newer one)', async () => {
    const r = rig('quectel', { driver: { ...NO_POLL, deliveryMode: 'direct' }, network: { redeliverAfterMs: 0 } });
    const commands = recordCommands(r);
    current = await started(r);
    r.modem.ackTimeoutMs = 20;
    const first = r.nextPdu('deliver');
    const undelivered = waitForEvent(r.network, 'undelivered');
    const redelivered = secondDelivery(r);
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'slow to store');
    const old = await first;
    await undelivered;
    await redelivered;
    const copy = r.nextPdu('deliver');
    await r.driver.checkHealth(); // routing back on; the redelivered copy is read from storage
    await (await copy).confirm();

    r.modem.ackTimeoutMs = 600_000;
    const next = r.nextPdu('deliver');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'newer');
    const newer = await next;
    expect(newer.storage).toBeUndefined();
    await old.confirm(); // late: must not ack the newer +CMT the modem now holds
    expect(cnmas(commands)).toEqual([]);
    await newer.confirm();
    expect(cnmas(commands)).toEqual(['AT+CNMA']);
  });
});

describe('direct delivery config', () => {
  it('takes modems[].deliveryMode storage or direct, and refuses anything else', () => {
    expect(validateConfig({ modems: [{ id: 'a', port: '/dev/a', deliveryMode: 'direct' }] }).modems[0]!.deliveryMode).toBe('direct');
    expect(validateConfig({ modems: [{ id: 'a', port: '/dev/a' }] }).modems[0]!.deliveryMode).toBeUndefined();
    let problems: readonly string[] = [];
    try {
      validateConfig({ modems: [{ id: 'a', port: '/dev/a', deliveryMode: 'sideways' }] });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems.join('\n')).toMatch(/deliveryMode/);
  });
});

describe('direct delivery through the gateway', () => {
  const tempDir = useTempDir();
  let receiver: WebhookReceiver;
  afterEach(async () => {
    await receiver?.stop();
  });

  const directLines = {
    virtual: {
      lines: [
        { id: 'virtual-1', number: '+15550000001', dialect: 'quectel', deliveryMode: 'direct' },
        { id: 'virtual-2', number: '+15550000002', dialect: 'simcom', deliveryMode: 'direct' },
      ],
    },
  };

  it('stores inbound texts and status reports handed over directly, sends their webhooks, and acknowledges each', async () => {
    receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    const gw = await startTestGateway(tempDir(), directLines);
    try {
      await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
      expect(gw.pool.line('virtual-1').delivery).toBe('direct');
      const modem = gw.network!.line('virtual-1');
      const commands: string[] = [];
      modem.on('command', (c) => commands.push(c));
      // The webhook can overtake the AT+CNMA written after the commit: wait for the modem to see both.
      let acks = 0;
      const bothAcked = waitForEvent(modem, 'command', (c: string) => c === 'AT+CNMA' && ++acks === 2);

      gw.network!.text(SUBSCRIBER, '+15550000001', 'hello direct');
      await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
      expect(receiver.events('message.inbound')[0]!.json).toMatchObject({ from: SUBSCRIBER, to: '+15550000001', body: 'hello direct' });

      const sent = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body: 'report back' }) });
      const { messageId } = (await sent.json()) as { messageId: string };
      await receiver.waitFor(() => receiver.events('message.status').some((h) => h.json.message_id === messageId && h.json.status === 'delivered'));
      await bothAcked;
      expect(cnmas(commands)).toEqual(['AT+CNMA', 'AT+CNMA']);
      expect(modem.store.used('ME') + modem.store.used('SR')).toBe(0);
    } finally {
      await gw.stop();
    }
  });

  it('acknowledges only after the commit: a failed store sends no AT+CNMA, and the redelivery is stored once', async () => {
    receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    const gw = await startTestGateway(tempDir(), directLines);
    try {
      await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
      const network = gw.network!;
      network.redeliverAfterMs = 0;
      const modem = network.line('virtual-1');
      modem.ackTimeoutMs = 50; // nothing acknowledges in this test, so nothing races this timer
      const commands: string[] = [];
      modem.on('command', (c) => commands.push(c));
      // The receive path stores through the repository on its transaction (messages.on(tx)).
      const messages = gw.core.messages;
      const on = messages.on.bind(messages);
      let failures = 0;
      messages.on = (tx) => {
        const repo = on(tx);
        const insert = repo.insertInbound.bind(repo);
        repo.insertInbound = (row) => {
          if (failures++ === 0) return Promise.reject(new Error('disk full'));
          return insert(row);
        };
        return repo;
      };

      const undelivered = waitForEvent(network, 'undelivered');
      let deliveries = 0;
      const redelivered = waitForEvent<[{ lineId: string }]>(network, 'delivered', (e) => e.lineId === 'virtual-1' && ++deliveries === 2);
      network.text(SUBSCRIBER, '+15550000001', 'store me once');
      await undelivered;
      expect(failures).toBe(1);
      expect(cnmas(commands)).toEqual([]);
      // The network tries again; the modem, its routing off after the missed ack, stores it.
      await redelivered;
      await gw.pool.driver('virtual-1').checkHealth();
      await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
      const listed = (await (await gw.api(`/api/numbers/${gw.numberA}/messages?direction=inbound`)).json()) as { messages: Array<{ body: string }> };
      expect(listed.messages.map((m) => m.body)).toEqual(['store me once']);
      expect(receiver.events('message.inbound')).toHaveLength(1);
      expect(cnmas(commands)).toEqual([]);
    } finally {
      await gw.stop();
    }
  });
});
