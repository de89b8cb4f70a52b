import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePdu, encodeSubmit } from '../../src/sms/index.ts';
import { ModemError, openSerialTransport, type Dialect, type ModemTransport } from '../../src/modem/index.ts';
import { waitForEvent } from '../fakes/wait.ts';
import { LINE_NUMBER, SUBSCRIBER, rig, started, type Rig } from './support.ts';

const DIALECTS: Dialect[] = ['quectel', 'simcom', 'huawei', 'sierra', 'telit', 'generic'];

let current: Rig | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

describe.each(DIALECTS)('driver against a virtual %s modem', (dialect) => {
  it('initialises over a real PTY and reports identity and health', async () => {
    const r = (current = await started(rig(dialect)));
    const status = r.driver.status();
    expect(status.state).toBe('ready');
    expect(status.identity).toMatchObject({ imei: r.modem.imei, iccid: r.modem.iccid, imsi: r.modem.imsi, number: LINE_NUMBER });
    expect(status.registration).toBe('home');
    expect(status.signalDbm).toBe(-113 + 2 * r.modem.rssi);
    expect(status.operator).toBe('AgentPhone Virtual');
  });

  it('sends a SUBMIT, returns the mr, and gets a matching status report', async () => {
    const r = (current = await started(rig(dialect)));
    const inbox = waitForEvent(r.network, 'inbox', (phone) => phone === SUBSCRIBER);
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: `hello from ${dialect}`, requestStatusReport: true });
    const report = r.nextPdu('status-report');
    const { mr } = await r.driver.send(pdu!);
    await inbox;
    expect(r.network.inbox(SUBSCRIBER)[0]).toMatchObject({ from: LINE_NUMBER, body: `hello from ${dialect}` });
    const sr = await report;
    const decoded = decodePdu(sr.pdu, { hasSmsc: true, direction: 'incoming' });
    expect(decoded.type).toBe('status-report');
    expect(decoded.type === 'status-report' && decoded.messageRef).toBe(mr);
    await sr.confirm();
  });

  it('reads a received text and deletes it only after confirmation', async () => {
    const r = (current = await started(rig(dialect)));
    const next = r.nextPdu('deliver');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'ping');
    const pdu = await next;
    const decoded = decodePdu(pdu.pdu, { hasSmsc: true, direction: 'incoming' });
    expect(decoded).toMatchObject({ type: 'deliver', text: 'ping' });
    const mem = r.profile.storage.read;
    expect(r.modem.store.used(mem)).toBe(1);
    await pdu.confirm();
    expect(r.modem.store.used(mem)).toBe(0);
  });

  it('reads the backlog stored while nobody listened', async () => {
    const r = (current = await started(rig(dialect)));
    await r.driver.stop();
    const delivered = waitForEvent(r.network, 'delivered');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'while you were out');
    await delivered;
    const next = r.nextPdu('deliver');
    r.driver.start();
    const pdu = await next;
    expect(decodePdu(pdu.pdu, { hasSmsc: true, direction: 'incoming' })).toMatchObject({ text: 'while you were out' });
    expect(pdu.index).toBe(0);
  });

  it('turns +CMS ERROR on send into a typed ModemError, retryable or not', async () => {
    const r = (current = await started(rig(dialect)));
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'x' });
    r.modem.faults.cmsErrorOnSend = 42;
    const congestion = await r.driver.send(pdu!).catch((e: unknown) => e);
    expect(congestion).toBeInstanceOf(ModemError);
    expect(congestion).toMatchObject({ kind: 'cms', errorCode: 42, retryable: true });
    r.modem.faults.cmsErrorOnSend = 195;
    await expect(r.driver.send(pdu!)).rejects.toMatchObject({ errorCode: 195, retryable: false });
    expect((await r.driver.send(pdu!)).mr).toBeGreaterThanOrEqual(0);
  });

  it('recovers from a modem that hangs at the "> " prompt', async () => {
    const r = (current = await started(rig(dialect)));
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'stuck' });
    r.modem.faults.hangAtPrompt = true;
    const sent = r.driver.send(pdu!).catch((e: unknown) => e);
    await waitForEvent(r.modem, 'command', (c: string) => c.startsWith('AT+CMGS'));
    r.clock.advance(60_000);
    expect(['timeout', 'no-prompt']).toContain((await sent as ModemError).kind);
    expect((await r.driver.send(pdu!)).mr).toBeGreaterThanOrEqual(0);
  });
});

describe('driver options', () => {
  it('keeps its defaults for options passed as undefined (the pool forwards unset config that way)', async () => {
    const unset = { commandTimeoutMs: undefined, sendTimeoutMs: undefined, healthIntervalMs: undefined, reconnectInitialMs: undefined };
    const r = (current = await started(rig('quectel', { driver: unset })));
    expect(r.driver.status()).toMatchObject({ state: 'ready', lastError: undefined });
  });
});

describe('driver faults', () => {
  it('stopped while its port is still opening: closes the port as it opens, and stop() returns only then', async () => {
    let opened: ModemTransport | undefined;
    let letOpen!: () => void;
    let opening!: () => void;
    const gate = new Promise<void>((resolve) => (letOpen = resolve));
    const asked = new Promise<void>((resolve) => (opening = resolve));
    const r = (current = rig('quectel', {
      driver: {
        // The real serial port, held back until after stop() (only the timing of the open is arranged).
        openTransport: async (path) => {
          opening();
          await gate;
          opened = await openSerialTransport(path);
          return opened;
        },
      },
    }));
    r.driver.start();
    await asked;
    let stopped = false;
    const stopping = r.driver.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    letOpen();
    await stopping;
    expect(opened).toBeDefined();
    expect(await opened?.write('AT\r').then(() => 'written', (err: Error) => err.message)).toBe('port is closed');
    expect(r.driver.state).toBe('disconnected');
  });

  it('ignores garbage on the line', async () => {
    const r = (current = await started(rig('quectel')));
    r.modem.faults.garbage = true;
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'through the noise' });
    expect((await r.driver.send(pdu!)).mr).toBe(0);
    await r.driver.checkHealth();
    expect(r.driver.state).toBe('ready');
  });

  it('goes degraded on loss of registration and back to ready', async () => {
    const r = (current = await started(rig('simcom')));
    r.modem.setRegistered(false);
    await r.driver.checkHealth();
    expect(r.driver.status()).toMatchObject({ state: 'degraded', registration: 'not-registered' });
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'no service' });
    await expect(r.driver.send(pdu!)).rejects.toMatchObject({ kind: 'cms', errorCode: 331, retryable: true });
    r.modem.setRegistered(true);
    await r.driver.checkHealth();
    expect(r.driver.state).toBe('ready');
  });

  it('reconnects after an unplug and recognises the modem at its new path, not a stranger at the old one', async () => {
    // The driver is given a stable name (as udev would give), a symlink to the modem's PTY.
    // Which /dev/pts number the kernel hands out next is not ours to choose (other tests open
    // PTYs too), so the "stranger at the old name" is made by re-pointing the symlink.
    const dir = mkdtempSync(join(tmpdir(), 'agentphone-udev-'));
    const link = join(dir, 'modem-l1');
    const r = rig('quectel', { driver: { path: link } });
    symlinkSync(r.modem.path!, link);
    current = await started(r);
    try {
      const gone = waitForEvent(r.driver, 'state', (s) => s === 'disconnected');
      r.network.unplug('l1');
      await gone;
      // Another modem now answers at the name this line used, and ours comes back elsewhere.
      const stranger = r.network.addLine({ lineId: 'other', number: '+15550002222', dialect: 'quectel' });
      rmSync(link);
      symlinkSync(stranger.path!, link);
      const newPath = r.network.replug('l1');
      const ready = waitForEvent(r.driver, 'state', (s) => s === 'ready');
      r.clock.advance(1_000);
      await ready;
      const status = r.driver.status();
      expect(status.path).toBe(newPath);
      expect(status.path).not.toBe(link);
      expect(status.identity).toMatchObject({ iccid: r.modem.iccid, imei: r.modem.imei });
      expect(status.identity?.iccid).not.toBe(stranger.iccid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('soft-resets an unresponsive modem after repeated timeouts, then reconnects', async () => {
    const r = (current = await started(rig('quectel', { driver: { resetAfterTimeouts: 2 } })));
    // Let the start-up backlog read (AT+CMGL on each storage) finish first, so the health checks
    // below are the next commands on the line.
    await r.driver.drain();
    r.modem.faults.silent = true;
    const resetSent = waitForEvent(r.modem, 'command', (c: string) => c === 'AT+CFUN=1,1');
    const health = r.driver.checkHealth();
    await waitForEvent(r.modem, 'command', (c: string) => c === 'AT+CSQ');
    r.clock.advance(5_000);
    await health;
    // The channel is out of step now: the next command waits for the late final (5 s), then
    // for the resynchronising handshake (5 s), which a silent modem never answers.
    const again = r.driver.checkHealth();
    r.clock.advance(5_000);
    await waitForEvent(r.modem, 'command', (c: string) => c === 'AT+CMEE?');
    r.clock.advance(5_000);
    await again;
    await resetSent;
    const gone = waitForEvent(r.driver, 'state', (s) => s === 'disconnected');
    r.clock.advance(5_000);
    await gone;
    r.modem.faults.silent = false;
    const ready = waitForEvent(r.driver, 'state', (s) => s === 'ready');
    r.clock.advance(1_000);
    await ready;
    expect(r.driver.status().consecutiveTimeouts).toBe(0);
  });

  it('drains a full SIM: messages that did not fit arrive after earlier ones are confirmed', async () => {
    const r = (current = await started(rig('huawei', { storageSlots: 2 })));
    const first = [r.nextPdu('deliver')];
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'one');
    await first[0];
    const second = r.nextPdu('deliver');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'two');
    await second;
    const full = waitForEvent(r.driver, 'urc', (u: { type: string }) => u.type === 'storage-full');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'three');
    await full;
    expect(r.pdus).toHaveLength(2);
    const third = r.nextPdu('deliver');
    for (const pdu of r.pdus) await pdu.confirm();
    const last = await third;
    expect(decodePdu(last.pdu, { hasSmsc: true, direction: 'incoming' })).toMatchObject({ text: 'three' });
  });

  it('acknowledges direct +CMT delivery with AT+CNMA on confirmation', async () => {
    const base = rig('quectel');
    await base.stop();
    const profile = { ...base.profile, cnmi: 'AT+CNMI=2,2,0,1,0', csms: 1 as const };
    const r = (current = await started(rig('quectel', { profile })));
    const next = r.nextPdu('deliver');
    r.network.text(SUBSCRIBER, LINE_NUMBER, 'direct');
    const pdu = await next;
    expect(pdu.storage).toBeUndefined();
    const cnma = waitForEvent(r.modem, 'command', (c: string) => c === 'AT+CNMA');
    await pdu.confirm();
    await cnma;
  });
});
