/** Messages between the call manager's thread and the media worker (see WorkerMediaEngine). */
import type { StreamSettings } from './media-engine.ts';
import type { DtmfDigitEvent } from './dtmf.ts';
import type { DroppedKind, MediaCodec, RemoteMedia } from './media-stream.ts';
import type { PortRange } from './udp-port.ts';

export interface MediaWorkerData {
  bindHost: string;
  range: PortRange;
  /** nice for the worker thread alone; null leaves it. */
  nice: number | null;
}

/** Call ids are the engine's own numbers for a port pair, from allocation to close. */
export type ToMediaWorker =
  | { t: 'alloc'; id: number }
  | { t: 'stream'; id: number; settings: StreamSettings }
  | { t: 'release'; id: number }
  | { t: 'start'; id: number }
  | { t: 'play'; id: number; pcm: Int16Array }
  | { t: 'flush'; id: number; epoch: number }
  | { t: 'dtmf'; id: number; digit: string; durationMs: number | undefined }
  | { t: 'update'; id: number; remote: RemoteMedia; codec: MediaCodec; hold: boolean }
  | { t: 'close'; id: number }
  /** The caller's thread has taken `frames` more frames and digits (credit for the worker to send more). */
  | { t: 'ack'; id: number; frames: number };

/**
 * Where a stream's playout stands, sent with every frame and drain: the caller's thread reads
 * `playedSamples` and `queuedMs` from the latest one. `accepted` counts frames received through
 * `play`, so frames still in flight to the worker count as queued; `epoch` counts flushes, so a
 * report made before the latest flush reached the worker is not taken for the queue after it.
 */
export interface Playout {
  played: number;
  queued: number;
  accepted: number;
  epoch: number;
}

export type FromMediaWorker =
  | { t: 'priority'; nice: number | null; error: string | null }
  | { t: 'allocated'; id: number; port: number }
  | { t: 'alloc-failed'; id: number; code: string; message: string; status: number; retryable: boolean }
  | { t: 'frame'; id: number; pcm: Int16Array; playout: Playout }
  | { t: 'drained'; id: number; playout: Playout }
  | { t: 'dtmf'; id: number; event: DtmfDigitEvent }
  | { t: 'fault'; id: number; message: string }
  | { t: 'closed'; id: number }
  | { t: 'dropped'; counts: Partial<Record<DroppedKind, number>> };
