import type { Logger } from '../logging/index.ts';
import type { AtChannel, AtResponse, CommandOptions } from './at/channel.ts';
import { delay, type TimerClock } from '../clock/index.ts';
import { ModemError } from './errors.ts';
import { detectLineProfile, type ProfileClues } from './profile-detect.ts';
import { cpmsCommand, getProfile, type HardwareProfile } from './profiles.ts';
import { parseCnum, parseIccid, unquote, valueOf } from './responses.ts';

export interface ModemIdentity {
  manufacturer?: string;
  model?: string;
  revision?: string;
  imei?: string;
  imsi?: string;
  iccid?: string;
  number?: string;
}

export interface InitOptions {
  channel: AtChannel;
  clock: TimerClock;
  logger: Logger;
  profile?: HardwareProfile;
  profiles: HardwareProfile[];
  /** The port's USB ids, a clue for detecting the profile when none is configured. */
  usb?: ProfileClues['usb'];
  pin?: string;
  number?: string;
  /** A modem seen before: a different IMEI and ICCID means this is someone else's port. */
  expected?: { imei?: string; iccid?: string };
  commandTimeoutMs: number;
  simBusyRetries: number;
  simBusyDelayMs: number;
  /** The line's delivery mode; absent: the profile's, else storage. */
  deliveryMode?: DeliveryMode;
}

export type DeliveryMode = 'storage' | 'direct';

export interface InitResult {
  identity: ModemIdentity;
  profile: HardwareProfile;
  /** AT+CNMI was refused: new messages must be polled with AT+CMGL. */
  pollInbox: boolean;
  /** How new messages arrive: announced in storage (+CMTI) or handed over directly (+CMT/+CDS). */
  delivery: DeliveryMode;
  /** The AT+CNMI command in force (sent again when the modem turned routing off). */
  cnmi: string;
  /** +CMT/+CDS must be acknowledged with AT+CNMA (AT+CSMS=1 accepted). */
  ackDirect: boolean;
}

/** The init sequence: sync, echo off, errors numeric, SIM, identity, PDU mode, storage, CNMI. */
export async function initializeModem(options: InitOptions): Promise<InitResult> {
  const { channel, logger: log } = options;
  const cmd = (command: string, extra: CommandOptions = {}): Promise<AtResponse> =>
    channel.command(command, { timeoutMs: options.commandTimeoutMs, ...extra });
  const busy = <T>(fn: () => Promise<T>): Promise<T> => retrySimBusy(fn, options);

  await synchronise(channel, options.commandTimeoutMs);
  await cmd('ATE0');
  await cmd('AT+CMEE=1');

  const identity: ModemIdentity = {};
  identity.imei = digits(await optional(() => cmd('AT+CGSN'), '+CGSN:'));
  const expected = options.expected;
  const imeiMatches = !!expected?.imei && expected.imei === identity.imei;

  await unlockSim(options, cmd);

  identity.manufacturer = await optional(() => cmd('AT+CGMI'), '+CGMI:');
  identity.model = await optional(() => cmd('AT+CGMM'), '+CGMM:');
  identity.revision = await optional(() => cmd('AT+CGMR'), '+CGMR:');
  const profile = options.profile ?? (await detect(options, identity, cmd));
  identity.imsi = digits(await busy(() => optional(() => cmd('AT+CIMI'), '+CIMI:')));
  identity.iccid = await readIccid(profile, cmd, options.profiles);
  if (expected && (expected.imei || expected.iccid) && !imeiMatches && !(expected.iccid && expected.iccid === identity.iccid)) {
    throw new ModemError('a different modem answers on this port', { kind: 'unavailable', retryable: true });
  }
  identity.number = options.number ?? (await cmd('AT+CNUM').then((r) => parseCnum(r.lines), () => undefined));

  for (const command of profile.init) {
    await cmd(command).catch((error: unknown) => log.warn({ command, err: String(error) }, 'profile init command failed'));
  }
  await cmd('AT+CMGF=0');
  let delivery = options.deliveryMode ?? profile.deliveryMode ?? 'storage';
  // Direct delivery is only safe with phase 2+ (CSMS 1): the gateway acknowledges each message
  // once it is stored. Under CSMS 0 the modem acks on its own and a failed store would lose it.
  const csms = delivery === 'direct' ? 1 : profile.csms;
  const csmsSet = await cmd(`AT+CSMS=${csms}`).then(
    () => true,
    () => {
      log.warn({ csms }, 'AT+CSMS refused; keeping the default service');
      return false;
    },
  );
  if (delivery === 'direct' && !csmsSet) {
    log.warn('direct delivery needs AT+CSMS=1; reading messages from storage instead');
    delivery = 'storage';
  }
  await busy(() => cmd(cpmsCommand(profile)));
  const cnmi = delivery === 'direct' ? directCnmi(profile.cnmi) : profile.cnmi;
  const pollInbox = await cmd(cnmi).then(
    () => false,
    (error: unknown) => {
      log.warn({ err: String(error) }, 'AT+CNMI refused; polling the inbox instead');
      return true;
    },
  );
  if (pollInbox) delivery = 'storage';
  await enableRegistrationUrcs(profile, cmd, log);
  return { identity, profile, pollInbox, delivery, cnmi, ackDirect: csmsSet && csms === 1 };
}

/** The profile's AT+CNMI with <mt>=2 (+CMT) and <ds>=1 (+CDS): messages and reports handed over directly. */
export function directCnmi(cnmi: string): string {
  const params = cnmi.replace(/^AT\+CNMI=/i, '').split(',');
  while (params.length < 5) params.push('0');
  params[1] = '2';
  params[3] = '1';
  return `AT+CNMI=${params.join(',')}`;
}

/** The commands that turn registration URCs on for a profile (see HardwareProfile.registrationUrcs). */
export function registrationUrcCommands(profile: HardwareProfile): string[] {
  return profile.registrationUrcs ?? ['AT+CREG=2', 'AT+CGREG=2', ...(profile.lte ? ['AT+CEREG=2'] : [])];
}

/** Each command, or its `=1` form (stat only) where the modem refuses `=2` (with location). */
async function enableRegistrationUrcs(profile: HardwareProfile, cmd: (c: string) => Promise<AtResponse>, log: Logger): Promise<void> {
  for (const command of registrationUrcCommands(profile)) {
    const ok = await cmd(command).then(() => true, () => false);
    if (ok) continue;
    const fallback = command.endsWith('=2') ? `${command.slice(0, -1)}1` : undefined;
    if (!fallback || !(await cmd(fallback).then(() => true, () => false))) {
      log.warn({ command }, 'registration URCs refused; registration is seen by the health poll only');
    }
  }
}

/** No profile configured: the modem's USB id and identity (ATI when those are not enough) choose one. */
async function detect(options: InitOptions, identity: ModemIdentity, cmd: (c: string) => Promise<AtResponse>): Promise<HardwareProfile> {
  const clues = { usb: options.usb, manufacturer: identity.manufacturer, model: identity.model };
  const readAti = () => cmd('ATI').then((r) => r.lines.join('\n'), () => undefined);
  const { profile, by } = await detectLineProfile(clues, readAti, options.profiles);
  options.logger.info({ profile: profile.id, by, model: identity.model }, 'modem profile detected');
  return profile;
}

/** Gets a silent or confused modem back to answering `AT` with `OK`. */
async function synchronise(channel: AtChannel, timeoutMs: number): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Itself a resynchronisation: no handshake before it (the channel does one before ATE0).
      await channel.command('AT', { timeoutMs: Math.min(timeoutMs, 3_000), skipResync: true });
      return;
    } catch (error) {
      last = error;
      if (error instanceof ModemError && error.kind === 'closed') throw error;
      // ESC leaves a pending "> " prompt; a bare CR ends a half-typed command line.
      await channel.escape();
      await channel.transport.write('\r').catch(() => undefined);
    }
  }
  throw last instanceof ModemError ? last : new ModemError('modem does not answer AT', { kind: 'timeout', command: 'AT' });
}

async function unlockSim(options: InitOptions, cmd: (c: string, o?: CommandOptions) => Promise<AtResponse>): Promise<void> {
  for (let attempt = 0; attempt <= options.simBusyRetries; attempt++) {
    let state: string;
    try {
      state = unquote(valueOf((await cmd('AT+CPIN?')).lines, '+CPIN:'));
    } catch (error) {
      if (isSimBusy(error)) {
        await delay(options.clock, options.simBusyDelayMs);
        continue;
      }
      throw error;
    }
    if (/^READY$/i.test(state)) return;
    if (/^SIM PIN$/i.test(state)) {
      if (!options.pin) throw new ModemError('SIM PIN required and none configured', { kind: 'cme', errorCode: 11, retryable: false });
      if (attempt > 0 && options.pin) {
        // The PIN was already sent once; never risk a second wrong try towards PUK lock.
        await delay(options.clock, options.simBusyDelayMs);
        continue;
      }
      await cmd(`AT+CPIN="${options.pin}"`, { redactedAs: 'AT+CPIN=<redacted>' });
      continue;
    }
    throw new ModemError(`SIM not usable: ${state || 'unknown state'}`, { kind: 'cme', retryable: false });
  }
  throw new ModemError('SIM busy for too long', { kind: 'cme', errorCode: 14 });
}

async function readIccid(
  profile: HardwareProfile,
  cmd: (c: string) => Promise<AtResponse>,
  profiles: HardwareProfile[],
): Promise<string | undefined> {
  const commands = [profile.iccidCommand, getProfile('generic-27005', profiles).iccidCommand, 'AT+CCID'];
  for (const command of [...new Set(commands)]) {
    const iccid = await cmd(command).then((r) => parseIccid(command, r.lines), () => undefined);
    if (iccid) return iccid;
  }
  return undefined;
}

export function isSimBusy(error: unknown): boolean {
  return error instanceof ModemError && ((error.kind === 'cme' && error.errorCode === 14) || (error.kind === 'cms' && error.errorCode === 314));
}

async function retrySimBusy<T>(fn: () => Promise<T>, options: InitOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isSimBusy(error) || attempt >= options.simBusyRetries) throw error;
      await delay(options.clock, options.simBusyDelayMs);
    }
  }
}

async function optional(fn: () => Promise<AtResponse>, prefix: string): Promise<string | undefined> {
  try {
    const value = valueOf((await fn()).lines, prefix);
    return value ? unquote(value) : undefined;
  } catch {
    return undefined;
  }
}

function digits(value: string | undefined): string | undefined {
  const match = /\d{6,}/.exec(value ?? '');
  return match?.[0];
}
