import type { Dialect, HardwareProfile } from './profiles.ts';
import { GENERIC_PROFILE_ID, getProfile } from './profiles.ts';

/** What can be learnt about a modem without a configured profile. */
export interface ProfileClues {
  /** From SerialPort.list() for the port's path (absent for non-USB or virtual ports). */
  usb?: { vendorId?: string | undefined; productId?: string | undefined } | undefined;
  /** AT+CGMI / AT+CGMM answers. */
  manufacturer?: string | undefined;
  model?: string | undefined;
  /** The ATI answer, all lines joined: some modems name themselves only there. */
  ati?: string | undefined;
}

export type DetectedBy = 'usb' | 'identity' | 'ati' | 'vendor' | 'generic';

/** USB vendor ids of the module makers with a profile family; a new product id still has their dialect. */
export const USB_VENDOR_DIALECTS: Readonly<Record<string, Dialect>> = {
  '2c7c': 'quectel',
  '1e0e': 'simcom',
  '12d1': 'huawei',
  '1199': 'sierra',
  '1bc7': 'telit',
};

/**
 * The profile for a modem nobody named one for, best evidence first: its exact USB id, its
 * manufacturer and model (AT+CGMI/CGMM, then ATI), its maker alone (USB vendor id or the
 * manufacturer name: a model we have no profile for still speaks its maker's dialect), and
 * last the plain 27.005 profile.
 */
export function detectProfile(clues: ProfileClues, profiles: readonly HardwareProfile[]): { profile: HardwareProfile; by: DetectedBy } {
  const vid = clues.usb?.vendorId?.toLowerCase();
  const pid = clues.usb?.productId?.toLowerCase();
  const byUsb = vid && pid ? profiles.find((p) => p.usb.some((u) => u.vendorId === vid && u.productId === pid)) : undefined;
  if (byUsb) return { profile: byUsb, by: 'usb' };
  const byIdentity = matchIdentity([clues.manufacturer ?? ''], [clues.model ?? ''], profiles);
  if (byIdentity) return { profile: byIdentity, by: 'identity' };
  // ATI is free text: maker, model and revision on lines of their own, or on one.
  const ati = clues.ati ?? '';
  const atiLines = ati.split(/\r?\n/).filter((l) => l.trim() !== '');
  const byAti = atiLines.length > 0 ? matchIdentity(atiLines, atiLines.flatMap((l) => l.split(/\s+/)), profiles) : undefined;
  if (byAti) return { profile: byAti, by: 'ati' };
  const vendorDialect = vid ? USB_VENDOR_DIALECTS[vid] : undefined;
  const named = `${clues.manufacturer ?? ''}\n${ati}`;
  const byVendor = profiles.find((p) => {
    if (p.dialect === 'generic') return false;
    if (p.dialect === vendorDialect) return true;
    const maker = p.identify.manufacturer;
    return maker !== undefined && new RegExp(maker, 'i').test(named);
  });
  if (byVendor) return { profile: byVendor, by: 'vendor' };
  return { profile: getProfile(GENERIC_PROFILE_ID, [...profiles]), by: 'generic' };
}

/** Whether ATI could still tell more than these clues (nothing better than a maker matched yet). */
export function wantsAti(clues: ProfileClues, profiles: readonly HardwareProfile[]): boolean {
  const { by } = detectProfile(clues, profiles);
  return by === 'vendor' || by === 'generic';
}

/** A profile whose every identify pattern matches one of the candidate strings. */
function matchIdentity(makers: readonly string[], models: readonly string[], profiles: readonly HardwareProfile[]): HardwareProfile | undefined {
  return profiles.find((p) => {
    const { manufacturer: m, model: mm } = p.identify;
    if (!m && !mm) return false;
    return (!m || makers.some((s) => new RegExp(m, 'i').test(s))) && (!mm || models.some((s) => new RegExp(mm, 'i').test(s)));
  });
}

/** Detects a line's profile, asking the modem for ATI only when the other clues name no model we know. */
export async function detectLineProfile(
  clues: ProfileClues,
  readAti: () => Promise<string | undefined>,
  profiles: readonly HardwareProfile[],
): Promise<{ profile: HardwareProfile; by: DetectedBy }> {
  const ati = wantsAti(clues, profiles) ? await readAti() : undefined;
  return detectProfile({ ...clues, ati }, profiles);
}
