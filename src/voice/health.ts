import type { SignalingStatus } from './sip/signaling.ts';

/** The voice part of /healthz: no error texts or expiry times (the admin API has those). */
export interface VoiceHealth {
  drachtio: 'connected' | 'disconnected';
  trunks: Array<{ name: string; kind: 'register' | 'ip'; state: string }>;
}

/** Voice is degraded while the drachtio-server is out of reach or a trunk's registration failed. */
export function voiceHealth(status: SignalingStatus): { degraded: boolean; voice: VoiceHealth } {
  return {
    degraded: !status.connected || status.trunks.some((t) => t.state === 'failed'),
    voice: { drachtio: status.connected ? 'connected' : 'disconnected', trunks: status.trunks.map(({ name, kind, state }) => ({ name, kind, state })) },
  };
}
