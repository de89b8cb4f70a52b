import { Counter, type Registry } from 'prom-client';
import type { DroppedKind } from './media-stream.ts';

/** Counters for what peers send to the media ports, on the app's registry. */
export class MediaMetrics {
  readonly dropped: Counter<'kind'>;
  readonly faults: Counter;

  constructor(registry: Registry) {
    this.dropped = new Counter({
      name: 'agentphone_rtp_dropped_total',
      help: 'Datagrams dropped on call media ports, by kind: rtp (not RTP), rtcp (bad RTCP), dtmf (unreadable RFC 4733 event, or digits past 10/s on a call), socket (socket error), overrun (caller frames dropped because the turn loop was over a second behind)',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    this.faults = new Counter({
      name: 'agentphone_call_media_faults_total',
      help: 'Calls ended because their media stream failed (call.failed, reason media_fault)',
      registers: [registry],
    });
  }

  drop(kind: DroppedKind, count = 1): void {
    this.dropped.inc({ kind }, count);
  }
}
