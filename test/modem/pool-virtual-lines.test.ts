import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { createModemPool, createVirtualNetwork, type InboundPdu, type ModemPool, type VirtualNetwork } from '../../src/modem/index.ts';
import { until } from '../helpers/wait.ts';

let pool: ModemPool | undefined;
let network: VirtualNetwork | undefined;
afterEach(async () => {
  await pool?.stop();
  network?.close();
});

// Two virtual lines of one dialect have the same USB ids. A line whose modem did not answer
// looked for it among the unclaimed ports by USB id and took the other line's modem: under load
// (both first inits timing out together) lines a and b swapped modems and each sent from the
// other's number. Found by test/cluster/cluster-kill.test.ts.
describe('modem pool: a virtual line drives only its own modem', () => {
  it("a line whose modem is unplugged waits for it instead of taking the other line's modem, and finds it at its new path after a replug", async () => {
    const zero = { minMs: 0, maxMs: 0 };
    network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero });
    const a = network.addLine({ lineId: 'a', number: '+15550100001', dialect: 'quectel' });
    const b = network.addLine({ lineId: 'b', number: '+15550100002', dialect: 'quectel' });
    const stalePath = a.path as string;
    network.unplug('a');
    // Only line a is the pool's: b's port is free, with the same USB ids as a's.
    pool = createModemPool(
      { lines: [{ id: 'a', path: stalePath, profile: 'quectel-ec25', number: '+15550100001' }], messagesPerMinute: 6000, reconnectInitialMs: 20, reconnectMaxMs: 50 },
      { logger: silentLogger(), network },
    );
    const states: string[] = [];
    pool.on('state', ({ state }) => states.push(state));
    await pool.start();
    // Several connect rounds go by (each lists the ports again) without a reaching ready.
    await new Promise<void>((resolve) => {
      const onState = () => {
        if (states.includes('ready') || states.filter((s) => s === 'connecting').length >= 3) {
          pool!.off('state', onState);
          resolve();
        }
      };
      pool!.on('state', onState);
    });
    expect(states).not.toContain('ready');
    expect(pool.line('a').path).not.toBe(b.path);

    const newPath = network.replug('a');
    await new Promise<void>((resolve) => pool!.on('state', ({ state }) => state === 'ready' && resolve()));
    expect(pool.line('a')).toMatchObject({ state: 'ready', path: newPath, number: '+15550100001' });
  });
});

// Found by test/cluster/cluster-kill.test.ts: a text that reaches a modem before the gateway has
// initialised the line (a gateway restarting, a modem power-cycled) is stored in its power-up
// storage, "SM", before AT+CPMS selects the profile's "ME"; the inbox's listing reads the SIM too.
describe('modem pool: texts that arrive before the line is initialised', () => {
  it('a text the modem stored before the gateway initialised the line is read once the line is ready', async () => {
    const zero = { minMs: 0, maxMs: 0 };
    network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero });
    network.addLine({ lineId: 'a', number: '+15550100001', dialect: 'quectel' });
    const stored = new Promise<void>((resolve) => network!.once('delivered', () => resolve()));
    network.text('+15557000001', '+15550100001', 'before init');
    await stored;

    pool = createModemPool({ lines: [], messagesPerMinute: 6000 }, { logger: silentLogger(), network });
    const texts: InboundPdu[] = [];
    pool.on('pdu', (p) => {
      if (p.kind === 'deliver') texts.push(p);
      void p.confirm();
    });
    await pool.start();
    await until(() => pool!.line('a').state === 'ready', 10_000, 'line a ready');
    // A text after init is read (the line works); the one from before must be read too.
    network.text('+15557000001', '+15550100001', 'after init');
    await until(() => texts.length >= 1, 10_000, 'the text sent after init');
    await until(() => texts.length >= 2, 3_000, 'the text sent before init');
    expect(texts).toHaveLength(2);
  });
});
