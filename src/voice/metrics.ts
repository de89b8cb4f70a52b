import { Counter, Gauge, type Registry } from 'prom-client';
import type { SignalingStatus } from './sip/signaling.ts';

const TRUNK_STATES = ['registered', 'registering', 'failed', 'ip'] as const;

/** Voice signaling metrics on the app's registry: connection and trunk gauges read when scraped, refusals counted. */
export class VoiceMetrics {
  readonly invitesRefused: Counter<'reason'>;
  private status: () => SignalingStatus | undefined = () => undefined;

  constructor(registry: Registry) {
    const status = () => this.status();
    new Gauge({
      name: 'agentphone_sip_connected',
      help: '1 while connected to the drachtio-server (absent when voice is off)',
      registers: [registry],
      collect() {
        const s = status();
        if (s) this.set(s.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'agentphone_sip_trunk_state',
      help: '1 for the state each SIP trunk is in (registered, registering, failed; ip for IP-authenticated trunks)',
      labelNames: ['trunk', 'state'] as const,
      registers: [registry],
      collect() {
        for (const t of status()?.trunks ?? []) for (const state of TRUNK_STATES) this.set({ trunk: t.name, state }, t.state === state ? 1 : 0);
      },
    });
    this.invitesRefused = new Counter({
      name: 'agentphone_sip_invites_refused_total',
      help: 'INVITEs refused before any call was made, by reason (source_not_allowed: 403 to a host that is no trunk)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
  }

  /** Where the gauges read the signaling state from. */
  observe(status: () => SignalingStatus): void {
    this.status = status;
  }
}
