import type { EventEmitter } from 'node:events';
import type { TimerClock } from '../../clock/index.ts';
import type { JitterBufferOptions } from './jitter-buffer.ts';
import { MediaStream, type DroppedKind, type MediaCodec, type MediaStreamEvents, type RemoteMedia } from './media-stream.ts';
import { bindRtpPorts, type PortRange, type RtpSockets } from './udp-port.ts';

/**
 * One call's media as the call manager and the turn loop use it: the main thread's proxy of a
 * MediaStream in the media worker (see WorkerMediaEngine). Events are MediaStream's, except
 * 'rtcp' (reports are used where the stream runs).
 */
export interface CallMedia extends Pick<EventEmitter<MediaStreamEvents>, 'on' | 'once' | 'off'> {
  readonly localPort: number;
  /** Samples of queued audio sent so far (what the caller has heard). */
  readonly playedSamples: number;
  readonly queuedMs: number;
  start(): void;
  play(pcm8k: Int16Array): void;
  /** Barge-in: drops everything not yet sent; returns how many ms were dropped. */
  flush(): number;
  sendDtmf(digit: string, durationMs?: number): void;
  update(remote: RemoteMedia, codec: MediaCodec, hold: boolean): void;
  close(): void;
}

/** How a call's stream is set up once the SDP exchange has named the far end and the codec. */
export interface StreamSettings {
  remote: RemoteMedia;
  codec: MediaCodec;
  /** Starts on hold (sendonly/inactive offer). */
  hold: boolean;
  jitter: JitterBufferOptions;
  rtcpIntervalMs?: number;
}

/** An RTP/RTCP port pair held for one call: its port goes in the SDP before the stream exists. */
export interface MediaPorts {
  readonly port: number;
  /** Creates the call's stream on these ports (once); closing the stream releases them. */
  stream(settings: StreamSettings): CallMedia;
  /** Gives the ports back when no stream was made (a call that ended before media). */
  release(): void;
}

export interface MediaEngineSettings {
  bindHost: string;
  range: PortRange;
  /** Counts malformed datagrams on the media ports. */
  onDropped?: (kind: DroppedKind, count?: number) => void;
  /** nice of the media worker thread (WorkerMediaEngine only); null or absent leaves it. */
  threadNice?: number | null;
  /** Told whether the thread's priority was set (WorkerMediaEngine only). */
  onPriority?: (nice: number | null, error: string | null) => void;
}

/** Where calls' RTP runs. */
export interface MediaEngine {
  allocate(): Promise<MediaPorts>;
  /** Ends every stream still open and frees the engine's resources. */
  close(): Promise<void>;
}

function closeSockets(s: RtpSockets): void {
  s.rtp.close();
  s.rtcp.close();
}

/** Ports bound in this thread: their stream is a MediaStream itself. */
export interface InlinePorts extends MediaPorts {
  stream(settings: StreamSettings): MediaStream;
}

/** Ports bound in the calling thread (the media worker's), a MediaStream on them made on demand. */
export async function allocateInline(clock: TimerClock, settings: MediaEngineSettings): Promise<InlinePorts> {
  const sockets = await bindRtpPorts(settings.bindHost, settings.range);
  let used = false;
  return {
    port: sockets.port,
    stream(s) {
      if (used) throw new Error('the media ports already carry a stream');
      used = true;
      const media = new MediaStream({
        clock,
        sockets,
        remote: s.remote,
        codec: s.codec,
        jitter: s.jitter,
        ...(settings.onDropped && { onDropped: settings.onDropped }),
        ...(s.rtcpIntervalMs !== undefined && { rtcpIntervalMs: s.rtcpIntervalMs }),
      });
      if (s.hold) media.update(s.remote, s.codec, true);
      return media;
    },
    release() {
      if (used) return;
      used = true;
      closeSockets(sockets);
    },
  };
}
