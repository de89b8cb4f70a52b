import { afterEach, describe, expect, it } from 'vitest';
import { encodeSubmit } from '../../src/sms/index.ts';
import { parseUrc } from '../../src/modem/at/urc.ts';
import { parseReg } from '../../src/modem/responses.ts';
import type { Dialect } from '../../src/modem/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { waitForEvent } from '../fakes/wait.ts';
import { SUBSCRIBER, rig, started, waitForState, type Rig } from './support.ts';

const DIALECTS: Dialect[] = ['quectel', 'simcom', 'huawei', 'sierra', 'telit', 'generic'];
// The manual clock never moves in these tests, and the poll interval is an hour besides:
// whatever the line learns about its registration, it learns from the modem's URCs.
const NO_POLL = { healthIntervalMs: 3_600_000 };

let current: Rig | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

describe.each(DIALECTS)('registration URCs on a virtual %s modem', (dialect) => {
  it('turns +CREG URCs on at init and degrades the line the moment registration is lost, without a health poll', async () => {
    const commands: string[] = [];
    const r = rig(dialect, { driver: NO_POLL });
    r.modem.on('command', (c) => commands.push(c));
    current = await started(r);
    expect(commands).toContain('AT+CREG=2');
    if (r.profile.lte) expect(commands).toContain('AT+CEREG=2');
    expect(r.driver.status().registration).toBe('home');

    commands.length = 0;
    const degraded = waitForState(r.driver, 'degraded');
    r.network.setRegistered('l1', false);
    await degraded;
    expect(r.driver.status().registration).toBe('not-registered');
    // Nothing was polled: the state came from the URCs alone.
    expect(commands.filter((c) => /^AT\+(CREG|CEREG|CSQ)/.test(c))).toEqual([]);

    const ready = waitForState(r.driver, 'ready');
    r.network.setRegistered('l1', true);
    await ready;
    expect(r.driver.status().registration).toBe('home');
    expect(commands.filter((c) => /^AT\+(CREG|CEREG|CSQ)/.test(c))).toEqual([]);
  });
});

describe('lastError and the line event log', () => {
  it('clears lastError once the line is registered again and keeps the error in the event log', async () => {
    const r = (current = await started(rig('quectel', { driver: NO_POLL })));
    const degraded = waitForState(r.driver, 'degraded');
    r.network.setRegistered('l1', false);
    await degraded;
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'no network' });
    await expect(r.driver.send(pdu!)).rejects.toMatchObject({ kind: 'cms', errorCode: 331 });
    const failure = r.driver.status().lastError;
    expect(failure).toMatch(/331|no network service/i);

    const ready = waitForState(r.driver, 'ready');
    r.network.setRegistered('l1', true);
    await ready;
    expect(r.driver.status().lastError).toBeUndefined();
    const events = r.driver.events();
    const types = events.map((e) => `${e.type}: ${e.detail}`);
    expect(types).toEqual(
      expect.arrayContaining([
        'registration: cs not-registered',
        'state: degraded (was ready)',
        `error: ${failure}`,
        `recovered: ${failure}`,
        'registration: cs home',
        'state: ready (was degraded)',
      ]),
    );
    const at = (entry: string) => types.indexOf(entry);
    expect(at(`error: ${failure}`)).toBeLessThan(at(`recovered: ${failure}`));
    expect(at('state: degraded (was ready)')).toBeLessThan(at('state: ready (was degraded)'));
  });

  it('counts a repeated error on one entry and keeps the log bounded', async () => {
    const r = (current = await started(rig('quectel', { driver: NO_POLL })));
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'x' });
    for (let i = 0; i < 3; i++) {
      r.modem.faults.cmsErrorOnSend = 500;
      await expect(r.driver.send(pdu!)).rejects.toMatchObject({ errorCode: 500 });
    }
    const errors = r.driver.events().filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.repeated).toBe(3);
    for (let i = 0; i < 60; i++) {
      const change = waitForEvent(r.driver, 'state');
      r.network.setRegistered('l1', i % 2 === 1);
      await change;
    }
    expect(r.driver.events().length).toBeLessThanOrEqual(50);
  });
});

describe('registration parsing', () => {
  it('reads the stat of +CREG/+CGREG/+CEREG URCs with and without location', () => {
    expect(parseUrc('+CREG: 0')).toEqual({ type: 'registration', domain: 'cs', stat: 0 });
    expect(parseUrc('+CEREG: 5,"00C3","0000B1A2",7')).toEqual({ type: 'registration', domain: 'eps', stat: 5 });
    expect(parseUrc('+CGREG: 1,"00C3","0000B1A2",7,"01"')).toEqual({ type: 'registration', domain: 'ps', stat: 1 });
    expect(parseUrc('+CREG: "x"')).toMatchObject({ type: 'malformed', head: '+CREG' });
  });

  it('reads the query answer even when a registration URC fell among its lines', () => {
    expect(parseReg(['+CREG: 1,"00C3","0000B1A2",7', '+CREG: 2,5,"00C3","0000B1A2",7'], '+CREG:')).toBe('roaming');
    expect(parseReg(['+CREG: 0', '+CREG: 1,1'], '+CREG:')).toBe('home');
    expect(parseReg(['+CREG: 0,3'], '+CREG:')).toBe('denied');
  });
});

describe('registration through the gateway', () => {
  const tempDir = useTempDir();

  it('shows a lost registration in GET /admin/modems at once and the history in GET /admin/modems/:id/events', async () => {
    const gw = await startTestGateway(tempDir());
    try {
      const admin = (path: string) => gw.app.inject({ method: 'GET', url: `/admin${path}`, headers: { authorization: 'Bearer test-admin-token-0123456789' } });
      const lost = waitForEvent<[{ lineId: string; state: string }]>(gw.pool, 'state', (e) => e.lineId === 'virtual-1' && e.state === 'degraded');
      gw.network!.setRegistered('virtual-1', false);
      await lost;
      const lines = (await admin('/modems')).json<{ lines: Array<{ id: string; state: string; registration: string }> }>().lines;
      expect(lines.find((l) => l.id === 'virtual-1')).toMatchObject({ state: 'degraded', registration: 'not-registered' });
      const back = waitForEvent<[{ lineId: string; state: string }]>(gw.pool, 'state', (e) => e.lineId === 'virtual-1' && e.state === 'ready');
      gw.network!.setRegistered('virtual-1', true);
      await back;
      const res = await admin('/modems/virtual-1/events');
      expect(res.statusCode).toBe(200);
      const { events } = res.json<{ events: Array<{ type: string; detail: string; at: string; repeated: number }> }>();
      expect(events.map((e) => `${e.type}: ${e.detail}`)).toEqual(
        expect.arrayContaining(['registration: cs not-registered', 'state: degraded (was ready)', 'state: ready (was degraded)']),
      );
      expect((await admin('/modems/nope/events')).statusCode).toBe(404);
    } finally {
      await gw.stop();
    }
  });
});
