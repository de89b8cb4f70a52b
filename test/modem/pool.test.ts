import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { createModemPool, createVirtualNetwork, type InboundPdu, type ModemPool, type VirtualNetwork } from '../../src/modem/index.ts';
import { decodePdu, encodeSubmit } from '../../src/sms/index.ts';
import { waitForEvent } from '../fakes/wait.ts';

const LONG = 'x'.repeat(400); // three GSM-7 parts
let pool: ModemPool | undefined;
let network: VirtualNetwork | undefined;
afterEach(async () => {
  await pool?.stop();
  network?.close();
});

async function setup(): Promise<{ pool: ModemPool; network: VirtualNetwork; pdus: InboundPdu[] }> {
  const zero = { minMs: 0, maxMs: 0 };
  network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero });
  network.addLine({ lineId: 'a', number: '+15550100001', dialect: 'quectel' });
  network.addLine({ lineId: 'b', number: '+15550100002', dialect: 'huawei' });
  pool = createModemPool({ lines: [], messagesPerMinute: 6000 }, { logger: silentLogger(), network });
  const pdus: InboundPdu[] = [];
  pool.on('pdu', (p) => {
    pdus.push(p);
    void p.confirm();
  });
  const ready = new Set<string>();
  const allReady = new Promise<void>((resolve) =>
    pool!.on('state', ({ lineId, state }) => {
      if (state === 'ready') ready.add(lineId);
      if (ready.size === 2) resolve();
    }),
  );
  await pool.start();
  await allReady;
  return { pool, network, pdus };
}

async function partsOf(p: ModemPool, count: number, pdus: InboundPdu[]): Promise<number[]> {
  while (pdus.filter((x) => x.kind === 'deliver').length < count) await waitForEvent(p, 'pdu');
  return pdus.filter((x) => x.kind === 'deliver').map((x) => {
    const d = decodePdu(x.pdu, { hasSmsc: true, direction: 'incoming' });
    return d.type === 'deliver' ? (d.concat?.part ?? 1) : 0;
  });
}

describe('modem pool over the virtual network', () => {
  it('lists lines with identity, number, signal and queue depth', async () => {
    const { pool: p } = await setup();
    const lines = p.lines();
    expect(lines.map((l) => [l.id, l.state, l.number])).toEqual([['a', 'ready', '+15550100001'], ['b', 'ready', '+15550100002']]);
    expect(lines[0]).toMatchObject({ model: 'EC25', registration: 'home', queueDepth: 0, lastError: null });
    expect(lines[0]!.imei).toMatch(/^\d{15}$/);
  });

  it('carries a text from one line to the other', async () => {
    const { pool: p, pdus } = await setup();
    const [pdu] = encodeSubmit({ to: '+15550100002', text: 'line to line' });
    await p.send('a', pdu!);
    await partsOf(p, 1, pdus);
    // Line a's status report may come in before line b's message: look for the message itself.
    expect(pdus.filter((x) => x.kind === 'deliver')).toEqual([expect.objectContaining({ lineId: 'b' })]);
  });

  it('delivers a reordered concatenated set part by part', async () => {
    const { pool: p, network: n, pdus } = await setup();
    n.faults.reorderNext = true;
    n.text('+15551234567', '+15550100001', LONG);
    expect(await partsOf(p, 3, pdus)).toEqual([3, 2, 1]);
  });

  it('duplicates and drops parts when told to', async () => {
    const { pool: p, network: n, pdus } = await setup();
    n.faults.duplicateParts = 1;
    n.faults.dropParts = 0;
    n.text('+15551234567', '+15550100001', LONG);
    expect(await partsOf(p, 4, pdus)).toEqual([1, 1, 2, 3]);
    pdus.length = 0;
    n.faults.dropParts = 1;
    n.text('+15551234567', '+15550100001', LONG);
    expect(await partsOf(p, 2, pdus)).toEqual([2, 3]);
  });

  it('rejects a send on an unknown line with NotFound', async () => {
    const { pool: p } = await setup();
    const [pdu] = encodeSubmit({ to: '+15550100002', text: 'x' });
    expect(() => p.send('nope', pdu!)).toThrow(/No modem line/);
  });
});
