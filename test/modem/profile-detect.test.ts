import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { createModemPool, createVirtualNetwork, loadProfiles, type Dialect, type ModemPool, type PortListing, type VirtualNetwork } from '../../src/modem/index.ts';
import { detectProfile } from '../../src/modem/profile-detect.ts';
import { DIALECTS } from '../../src/modem/virtual/dialects.ts';
import { PROFILE_FOR } from './support.ts';

const profiles = loadProfiles();
let pool: ModemPool | undefined;
let network: VirtualNetwork | undefined;
afterEach(async () => {
  await pool?.stop();
  network?.close();
  pool = undefined;
  network = undefined;
});

/** One virtual modem of a dialect on a PTY, driven by a real pool whose line names no profile. */
async function detectedProfile(dialect: Dialect, options: { usb: boolean; refuse?: string[] }): Promise<string | null> {
  const zero = { minMs: 0, maxMs: 0 };
  network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero });
  const modem = network.addLine({ lineId: 'l1', number: '+15550100001', dialect });
  if (options.refuse) modem.faults.refuse = options.refuse;
  const net = network;
  // Without USB ids (a port SerialPort.list() does not show) the modem's answers decide alone.
  const listPorts = async (): Promise<PortListing[]> => (options.usb ? net.listPorts() : []);
  pool = createModemPool({ lines: [{ id: 'l1', path: modem.path! }], autodetect: false }, { logger: silentLogger(), listPorts });
  const ready = new Promise<void>((resolve) => pool!.on('state', ({ state }) => state === 'ready' && resolve()));
  await pool.start();
  await ready;
  return pool.line('l1').profile;
}

describe('modem profile detection (no profile configured)', () => {
  const dialects = Object.keys(DIALECTS) as Dialect[];

  it.each(dialects)('detects the %s virtual modem from AT+CGMI/AT+CGMM', async (dialect) => {
    expect(await detectedProfile(dialect, { usb: false })).toBe(PROFILE_FOR[dialect]);
  });

  it.each(dialects)('detects the %s virtual modem from ATI when it refuses AT+CGMI and AT+CGMM', async (dialect) => {
    expect(await detectedProfile(dialect, { usb: false, refuse: ['AT+CGMI', 'AT+CGMM'] })).toBe(PROFILE_FOR[dialect]);
  });

  it('takes the profile of a known USB id even when the identity says nothing', async () => {
    expect(await detectedProfile('quectel', { usb: true, refuse: ['AT+CGMI', 'AT+CGMM', 'ATI'] })).toBe('quectel-ec25');
  });

  it('prefers the exact USB id, then the identity, then ATI', () => {
    expect(detectProfile({ usb: { vendorId: '1E0E', productId: '9001' }, manufacturer: 'Quectel', model: 'EC25' }, profiles)).toMatchObject({ profile: { id: 'simcom-sim7600' }, by: 'usb' });
    expect(detectProfile({ usb: { vendorId: '0000', productId: '0000' }, manufacturer: 'SIMCOM INCORPORATED', model: 'SIMCOM_SIM7600E' }, profiles)).toMatchObject({ profile: { id: 'simcom-sim7600' }, by: 'identity' });
    expect(detectProfile({ ati: 'Manufacturer: Huawei Technologies\nModel: E3372h-153\nRevision: 22.200' }, profiles)).toMatchObject({ profile: { id: 'huawei-e3372' }, by: 'ati' });
  });

  it('falls back to the maker (USB vendor id or manufacturer name) for a model without a profile', () => {
    const byVendorId: Array<[string, string]> = [['2c7c', 'quectel'], ['1e0e', 'simcom'], ['12d1', 'huawei'], ['1199', 'sierra'], ['1bc7', 'telit']];
    for (const [vendorId, dialect] of byVendorId) {
      expect(detectProfile({ usb: { vendorId, productId: 'ffff' }, manufacturer: 'unknown', model: 'unknown' }, profiles)).toMatchObject({ profile: { dialect }, by: 'vendor' });
    }
    expect(detectProfile({ manufacturer: 'Quectel', model: 'RM500Q-GL' }, profiles)).toMatchObject({ profile: { id: 'quectel-ec25' }, by: 'vendor' });
  });

  it('runs an unknown modem with the plain 27.005 profile', () => {
    expect(detectProfile({ manufacturer: 'ACME', model: 'X1', ati: 'ACME X1' }, profiles)).toMatchObject({ profile: { id: 'generic-27005' }, by: 'generic' });
    expect(detectProfile({}, profiles)).toMatchObject({ profile: { id: 'generic-27005' }, by: 'generic' });
  });
});
