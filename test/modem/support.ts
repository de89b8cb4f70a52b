import { silentLogger, type Logger } from '../../src/logging/index.ts';
import {
  createVirtualNetwork,
  getProfile,
  loadProfiles,
  ModemDriver,
  openSerialTransport,
  type Dialect,
  type DriverOptions,
  type HardwareProfile,
  type InboundPdu,
  type LineState,
  type VirtualLineOptions,
  type VirtualModem,
  type VirtualNetwork,
  type VirtualNetworkOptions,
} from '../../src/modem/index.ts';
import type { TimerClock } from '../../src/clock/index.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { waitForEvent } from '../fakes/wait.ts';

export const PROFILE_FOR: Record<Dialect, string> = {
  quectel: 'quectel-ec25',
  simcom: 'simcom-sim7600',
  huawei: 'huawei-me909s',
  sierra: 'sierra-em74xx',
  telit: 'telit-le910',
  generic: 'generic-27005',
};

export const SUBSCRIBER = '+15551234567';
export const LINE_NUMBER = '+15550001111';

export interface Rig {
  network: VirtualNetwork;
  modem: VirtualModem;
  clock: ManualClock;
  driver: ModemDriver;
  pdus: InboundPdu[];
  profile: HardwareProfile;
  nextPdu(kind?: InboundPdu['kind']): Promise<InboundPdu>;
  stop(): Promise<void>;
}

/** A driver (on a manual clock) against one virtual modem (on a zero-latency network). */
export function rig(
  dialect: Dialect,
  extra: {
    pin?: string;
    simBusyCount?: number;
    storageSlots?: number;
    profile?: HardwareProfile;
    driver?: Partial<DriverOptions>;
    clock?: TimerClock;
    logger?: Logger;
    network?: Partial<VirtualNetworkOptions>;
    line?: Partial<VirtualLineOptions>;
  } = {},
): Rig {
  const zero = { minMs: 0, maxMs: 0 };
  const network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero, ...extra.network });
  const modem = network.addLine({ lineId: 'l1', number: LINE_NUMBER, dialect, pin: extra.pin, simBusyCount: extra.simBusyCount, storageSlots: extra.storageSlots, ...extra.line });
  const clock = new ManualClock();
  const profile = extra.profile ?? getProfile(PROFILE_FOR[dialect]);
  const driver = new ModemDriver({
    lineId: 'l1',
    path: modem.path,
    profile,
    profiles: loadProfiles(),
    openTransport: openSerialTransport,
    locate: async () => network.listPorts().map((p) => p.path),
    clock: extra.clock ?? clock,
    logger: extra.logger ?? silentLogger(),
    commandTimeoutMs: 5_000,
    sendTimeoutMs: 60_000,
    ...extra.driver,
  });
  const pdus: InboundPdu[] = [];
  driver.on('pdu', (p) => pdus.push(p));
  return {
    network,
    modem,
    clock,
    driver,
    pdus,
    profile,
    nextPdu: async (kind) => {
      const [pdu] = await waitForEvent<[InboundPdu]>(driver, 'pdu', (p) => kind === undefined || p.kind === kind);
      return pdu;
    },
    stop: async () => {
      await driver.stop();
      network.close();
    },
  };
}

export async function waitForState(driver: ModemDriver, state: LineState): Promise<void> {
  if (driver.state === state) return;
  await waitForEvent<[LineState]>(driver, 'state', (s) => s === state);
}

export async function started(r: Rig): Promise<Rig> {
  const ready = waitForState(r.driver, 'ready');
  r.driver.start();
  await ready;
  return r;
}
