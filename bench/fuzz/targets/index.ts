import type { FuzzTarget } from '../target.ts';

/** Every fuzz target, loaded on demand (the multipart target starts a fastify app). */
export const TARGETS: Readonly<Record<string, () => FuzzTarget | Promise<FuzzTarget>>> = {
  'sms-pdu': async () => (await import('./sms-pdu.ts')).createTarget(),
  'mms-pdu': async () => (await import('./mms-pdu.ts')).createTarget(),
  'wap-push': async () => (await import('./wap-push.ts')).createTarget(),
  'at-lines': async () => (await import('./at-lines.ts')).createTarget(),
  'at-channel': async () => (await import('./at-channel.ts')).createTarget(),
  rtp: async () => (await import('./rtp.ts')).createTarget(),
  'live-rtp': async () => (await import('./live-rtp.ts')).createTarget(),
  sdp: async () => (await import('./sdp.ts')).createTarget(),
  wav: async () => (await import('./wav.ts')).createTarget(),
  multipart: async () => (await import('./multipart.ts')).createTarget(),
};

export const TARGET_NAMES = Object.keys(TARGETS);
