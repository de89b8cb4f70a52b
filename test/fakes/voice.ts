import { EventEmitter } from 'node:events';
import type { DtmfDigitEvent } from '../../src/voice/rtp/dtmf.ts';
import type { SessionMedia } from '../../src/voice/session/call-session.ts';
import type { AgentAction, CallAgent, TimedResult, TurnRequest, VadSession, VoiceInference } from '../../src/voice/ports.ts';

/** Media without sockets: the test pushes caller frames and ticks the outgoing queue. */
export class FakeMedia extends EventEmitter<{ frame: [Int16Array]; dtmf: [DtmfDigitEvent]; drained: [] }> implements SessionMedia {
  readonly queue: Int16Array[] = [];
  readonly sent: Int16Array[] = [];
  playedSamples = 0;
  flushes = 0;

  get queuedMs(): number {
    return this.queue.length * 20;
  }

  play(pcm8k: Int16Array): void {
    for (let i = 0; i < pcm8k.length; i += 160) {
      const f = new Int16Array(160);
      f.set(pcm8k.subarray(i, i + 160));
      this.queue.push(f);
    }
  }

  flush(): number {
    this.flushes++;
    const ms = this.queuedMs;
    this.queue.length = 0;
    return ms;
  }

  /** One 20 ms period: a caller frame in, one queued frame out. */
  tick(caller: Int16Array = new Int16Array(160)): void {
    this.emit('frame', caller);
    const out = this.queue.shift();
    if (out) {
      this.sent.push(out);
      this.playedSamples += out.length;
      if (this.queue.length === 0) this.emit('drained');
    }
  }
}

/** An energy detector standing in for Silero where the model is not the point of the test. */
export class EnergyVad implements VadSession {
  readonly windowSamples = 256;
  closed = false;
  async probability(w: Int16Array): Promise<number> {
    let sum = 0;
    for (const s of w) sum += s * s;
    return Math.sqrt(sum / w.length) > 500 ? 0.95 : 0.02;
  }
  close(): void {
    this.closed = true;
  }
}

export interface FakeInferenceOptions {
  transcript?: (pcm16k: Int16Array) => string;
  /** TTS output: ms of 24 kHz audio per chunk, and chunks per reply. */
  ttsChunkMs?: number;
  ttsChunks?: (text: string) => number;
  /** Keep what was transcribed and spoken for the test to read (off for long fuzz runs: it grows without end). */
  record?: boolean;
}

export class FakeInference implements VoiceInference {
  readonly transcribed: Int16Array[] = [];
  readonly spoken: string[] = [];
  readonly vadSessions: EnergyVad[] = [];
  constructor(private readonly options: FakeInferenceOptions = {}) {}
  async vad(): Promise<VadSession> {
    const v = new EnergyVad();
    this.vadSessions.push(v);
    return v;
  }
  async transcribe(pcm16k: Int16Array): Promise<TimedResult<string>> {
    if (this.options.record !== false) this.transcribed.push(pcm16k);
    return { value: this.options.transcript?.(pcm16k) ?? 'hello there', modelMs: 0 };
  }
  async *speak(text: string, _voice: string, signal: AbortSignal): AsyncIterable<Int16Array> {
    if (this.options.record !== false) this.spoken.push(text);
    const chunks = this.options.ttsChunks?.(text) ?? 3;
    const samples = ((this.options.ttsChunkMs ?? 100) * 24_000) / 1000;
    for (let c = 0; c < chunks && !signal.aborted; c++) {
      const pcm = new Int16Array(samples);
      for (let i = 0; i < samples; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000));
      yield pcm;
    }
  }
  async chat(): Promise<TimedResult<string>> {
    return { value: 'chat reply', modelMs: 0 };
  }
}

/** An agent the test scripts: each turn gets the next action (or waits for the test to answer). */
export class ScriptedAgent implements CallAgent {
  readonly requests: TurnRequest[] = [];
  pending: Array<(a: AgentAction) => void> = [];
  constructor(private readonly script: Array<AgentAction | 'wait'> = []) {}
  turn(request: TurnRequest, signal: AbortSignal): Promise<TimedResult<AgentAction>> {
    this.requests.push(request);
    const next = this.script.shift() ?? { action: 'respond', reply: `you said ${request.transcript || request.dtmf}` };
    if (next !== 'wait') return Promise.resolve({ value: next, modelMs: 0 });
    return new Promise((resolve, reject) => {
      this.pending.push((a) => resolve({ value: a, modelMs: 0 }));
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
  }
}

/** A 20 ms frame of a loud tone (speech to the energy VAD), or silence. */
export function voiceFrame(loud = true): Int16Array {
  const f = new Int16Array(160);
  if (loud) for (let i = 0; i < 160; i++) f[i] = Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
  return f;
}
