import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Dialect = 'quectel' | 'simcom' | 'huawei' | 'sierra' | 'telit' | 'generic';

export interface UsbId {
  vendorId: string;
  productId: string;
  /** USB interface number of the AT command port. */
  atInterface: number;
}

/** How one modem model wants to be driven; the data lives in hardware/profiles/*.json. */
export interface HardwareProfile {
  id: string;
  vendor: string;
  models: string[];
  dialect: Dialect;
  usb: UsbId[];
  /** Regexes (case-insensitive) matched against AT+CGMI / AT+CGMM. */
  identify: { manufacturer?: string; model?: string };
  /** Extra commands after the standard init. */
  init: string[];
  /** Message storages for AT+CPMS and how many parameters the model accepts. */
  storage: { read: string; write: string; receive: string; paramCount: 1 | 2 | 3 };
  cnmi: string;
  /** AT+CSMS service: 1 (phase 2+) means +CMT/+CDS must be acknowledged with AT+CNMA. */
  csms: 0 | 1;
  /** Where stored status reports (+CDSI) are kept. */
  statusReportStorage: string;
  iccidCommand: string;
  resetCommands: string[];
  /** The reset re-enumerates USB: the port goes away and comes back, maybe at another path. */
  resetReenumerates: boolean;
  /** Registration is also read with AT+CEREG? (LTE). */
  lte: boolean;
  /**
   * Commands that turn on registration URCs (+CREG/+CGREG/+CEREG), so a lost network is seen
   * at once; absent: AT+CREG=2, AT+CGREG=2 and, on LTE models, AT+CEREG=2. [] turns them off.
   */
  registrationUrcs?: string[];
  /** storage (default): +CMTI, read from storage; direct: +CMT/+CDS, acknowledged with AT+CNMA. */
  deliveryMode?: 'storage' | 'direct';
  sendTimeoutMs: number;
  notes?: string;
}

const PROFILE_DIR = fileURLToPath(new URL('../../hardware/profiles/', import.meta.url));

let cached: HardwareProfile[] | undefined;

/** All bundled profiles; invalid files throw with the file name. */
export function loadProfiles(dir: string = PROFILE_DIR): HardwareProfile[] {
  if (dir === PROFILE_DIR && cached) return cached;
  const profiles = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => validateProfile(JSON.parse(readFileSync(`${dir}/${name}`, 'utf8')) as unknown, name));
  if (dir === PROFILE_DIR) cached = profiles;
  return profiles;
}

export function getProfile(id: string, profiles: HardwareProfile[] = loadProfiles()): HardwareProfile {
  const profile = profiles.find((p) => p.id === id);
  if (!profile) throw new Error(`unknown modem profile "${id}"; known: ${profiles.map((p) => p.id).join(', ')}`);
  return profile;
}

export const GENERIC_PROFILE_ID = 'generic-27005';

/** The profile whose USB id matches a port from SerialPort.list(). */
export function profileForUsb(
  vendorId: string | undefined,
  productId: string | undefined,
  profiles: HardwareProfile[] = loadProfiles(),
): { profile: HardwareProfile; usb: UsbId } | undefined {
  if (!vendorId || !productId) return undefined;
  for (const profile of profiles) {
    const usb = profile.usb.find((u) => u.vendorId === vendorId.toLowerCase() && u.productId === productId.toLowerCase());
    if (usb) return { profile, usb };
  }
  return undefined;
}

/** `AT+CPMS="ME","ME","ME"` with as many parameters as the model accepts. */
export function cpmsCommand(profile: HardwareProfile): string {
  const { read, write, receive, paramCount } = profile.storage;
  return `AT+CPMS=${[read, write, receive].slice(0, paramCount).map((s) => `"${s}"`).join(',')}`;
}

function validateProfile(raw: unknown, file: string): HardwareProfile {
  const problems: string[] = [];
  const p = raw as Partial<HardwareProfile>;
  const need = (ok: boolean, what: string): void => {
    if (!ok) problems.push(`${file}: ${what}`);
  };
  need(typeof p.id === 'string' && p.id.length > 0, 'id must be a non-empty string');
  need(['quectel', 'simcom', 'huawei', 'sierra', 'telit', 'generic'].includes(String(p.dialect)), 'dialect is unknown');
  need(Array.isArray(p.usb), 'usb must be an array');
  need(Array.isArray(p.init), 'init must be an array of commands');
  need(typeof p.cnmi === 'string' && p.cnmi.startsWith('AT+CNMI='), 'cnmi must be an AT+CNMI= command');
  need(!!p.storage && [1, 2, 3].includes(p.storage.paramCount), 'storage.paramCount must be 1, 2 or 3');
  need(typeof p.iccidCommand === 'string', 'iccidCommand must be a string');
  need(Array.isArray(p.resetCommands) && p.resetCommands.length > 0, 'resetCommands must list at least one command');
  if (problems.length > 0) throw new Error(`invalid modem profile:\n  ${problems.join('\n  ')}`);
  return Object.freeze(p as HardwareProfile);
}
