import { afterEach, describe, expect, it } from 'vitest';
import { decodePdu, encodeSubmit } from '../../src/sms/index.ts';
import { getProfile, type InboundPdu } from '../../src/modem/index.ts';
import { waitForEvent } from '../fakes/wait.ts';
import { LINE_NUMBER, SUBSCRIBER, rig, started, type Rig } from './support.ts';

let current: Rig | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

/** What the virtual modem reports while healthy (see VirtualModem and its commands). */
const HEALTHY = { state: 'ready', registration: 'home', rssi: 23, operator: 'AgentPhone Virtual' };

function textOf(pdu: InboundPdu): string | null | undefined {
  const decoded = decodePdu(pdu.pdu, { hasSmsc: true, direction: 'incoming' });
  return decoded.type === 'deliver' ? decoded.text : undefined;
}

/** Lets the promise callbacks queued so far run (the inbox issues its read a few of them after the URC). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('AT channel resynchronisation through a virtual modem', () => {
  it('keeps health right after a send times out at the "> " prompt with a health poll waiting behind it', async () => {
    const r = (current = await started(rig('quectel')));
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'stuck at the prompt' });
    r.modem.faults.hangAtPrompt = true;
    const ignored = waitForEvent(r.modem, 'ignoredPdu');
    const sent = r.driver.send(pdu!).catch((e: unknown) => e);
    await ignored; // the driver saw "> " and wrote the PDU, which the modem sits on
    const health = r.driver.checkHealth(); // AT+CSQ waits behind the send
    r.clock.advance(60_000);
    expect(await sent).toMatchObject({ kind: 'timeout', command: expect.stringMatching(/^AT\+CMGS=/) });
    await health;
    expect(r.driver.status()).toMatchObject(HEALTHY);
    // The next send gets its own message reference, not an answer meant for someone else.
    const submitted = waitForEvent<[{ mr: number }]>(r.network, 'submit');
    const [next] = encodeSubmit({ to: SUBSCRIBER, text: 'after the cancel' });
    const { mr } = await r.driver.send(next!);
    expect(mr).toBe((await submitted)[0].mr);
    await r.driver.checkHealth();
    expect(r.driver.status()).toMatchObject(HEALTHY);
  });

  it('discards a late answer that comes after the next command was written', async () => {
    const r = (current = await started(rig('simcom')));
    await r.driver.checkHealth(); // the start-up backlog read (AT+CMGL) is done: the polls below come next
    r.modem.faults.holdAnswer = true;
    const first = r.driver.checkHealth();
    await waitForEvent(r.modem, 'command', (c: string) => c === 'AT+CSQ');
    r.clock.advance(5_000); // AT+CSQ runs out; its answer is still held by the modem
    await first;
    const nextWritten = waitForEvent(r.modem, 'command');
    const second = r.driver.checkHealth();
    r.clock.advance(5_000); // the bounded wait for the late final ends: the handshake is written
    await nextWritten;
    r.modem.releaseAnswer(); // the answer to the cut-off AT+CSQ, then whatever was written since
    await second;
    expect(r.driver.status()).toMatchObject(HEALTHY);
  });

  it('discards a send\'s answer given twice instead of passing it to the health poll behind it', async () => {
    const r = (current = await started(rig('telit')));
    await r.driver.checkHealth(); // the start-up backlog read is done
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'answered twice' });
    r.modem.faults.answerTwice = true; // the next final is the +CMGS answer
    const submitted = waitForEvent<[{ mr: number }]>(r.network, 'submit');
    const sent = r.driver.send(pdu!);
    await waitForEvent(r.modem, 'command', (c: string) => c.startsWith('AT+CMGS'));
    const health = r.driver.checkHealth();
    expect((await sent).mr).toBe((await submitted)[0].mr);
    await health;
    expect(r.driver.status()).toMatchObject(HEALTHY);
    const again = waitForEvent<[{ mr: number }]>(r.network, 'submit');
    const [next] = encodeSubmit({ to: SUBSCRIBER, text: 'the next one' });
    expect((await r.driver.send(next!)).mr).toBe((await again)[0].mr);
  });

  it('never hands out one stored message under another\'s index when AT+CMGR is answered late', async () => {
    const r = (current = await started(rig('quectel')));
    await r.driver.drain(); // after the start-up backlog read (it lists several storages)
    r.modem.faults.holdAnswer = true;
    const firstRead = waitForEvent<[string]>(r.modem, 'command', (c: string) => c.startsWith('AT+CMGR='));
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'first');
    const [firstCommand] = await firstRead;
    r.clock.advance(5_000); // that read runs out; the modem still holds its answer
    const nextWritten = waitForEvent(r.modem, 'command', (c: string) => c !== firstCommand);
    const announced = waitForEvent(r.driver, 'urc', (u: { type: string }) => u.type === 'new-message');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'second');
    await announced;
    await settle();
    r.clock.advance(5_000);
    await nextWritten;
    const handed = r.nextPdu('deliver');
    r.modem.releaseAnswer();
    const second = await handed;
    expect(textOf(second)).toBe('second');
    expect(r.modem.store.get(second.storage!, second.index!)?.pdu).toBe(second.pdu);
    // The first is still stored and read by the next listing, under its own index.
    await r.driver.drain();
    const first = r.pdus.find((p) => p !== second);
    expect(first && textOf(first)).toBe('first');
    expect(r.modem.store.get(first!.storage!, first!.index!)?.pdu).toBe(first!.pdu);
    expect(first!.index).not.toBe(second.index);
  });
});

describe('message storage switching with the parameter count the model accepts', () => {
  const e3372 = getProfile('huawei-e3372');

  it('reads a status report the Huawei E3372 stores in SR (one-parameter AT+CPMS is refused)', async () => {
    const r = (current = await started(rig('huawei', { profile: e3372 })));
    const report = r.nextPdu('status-report');
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'report please', requestStatusReport: true });
    const { mr } = await r.driver.send(pdu!);
    const sr = await report;
    const decoded = decodePdu(sr.pdu, { hasSmsc: true, direction: 'incoming' });
    expect(decoded.type === 'status-report' && decoded.messageRef).toBe(mr);
    await sr.confirm();
    expect(r.modem.store.list('SR')).toHaveLength(0);
  });

  it('reads a +CMTI naming a storage other than the read storage, and deletes it there', async () => {
    const profile = { ...e3372, storage: { ...e3372.storage, receive: 'ME' } };
    const r = (current = await started(rig('huawei', { profile })));
    await r.driver.checkHealth(); // the start-up backlog read is done
    const commands: string[] = [];
    r.modem.on('command', (c: string) => commands.push(c));
    const handed = r.nextPdu('deliver');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'landed in ME');
    const pdu = await handed;
    expect(pdu.storage).toBe('ME');
    expect(textOf(pdu)).toBe('landed in ME');
    await pdu.confirm();
    expect(r.modem.store.list('ME')).toHaveLength(0);
    // Switched there to read and to delete, and back each time, always with all three storages.
    expect(commands.filter((c) => c.startsWith('AT+CPMS='))).toEqual(['AT+CPMS="ME","SM","ME"', 'AT+CPMS="SM","SM","ME"', 'AT+CPMS="ME","SM","ME"', 'AT+CPMS="SM","SM","ME"']);
  });
});
