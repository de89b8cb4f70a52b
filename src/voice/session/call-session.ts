import { EventEmitter } from 'node:events';
import { Resampler } from '../audio/resampler.ts';
import type { TimerClock } from '../../clock/index.ts';
import type { DtmfDigitEvent } from '../rtp/dtmf.ts';
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../rtp/media-stream.ts';
import { TTS_RATE_HZ, type AgentAction, type CallAgent, type ChatMessage, type TurnRequest, type VadSession, type VoiceInference } from '../ports.ts';
import { Endpointer, type EndpointerOptions } from './endpointer.ts';
import { Utterance } from './utterance.ts';

/** The part of a MediaStream the turn loop uses (tests give it a fake). */
export interface SessionMedia {
  on(event: 'frame', fn: (pcm: Int16Array) => void): unknown;
  on(event: 'dtmf', fn: (e: DtmfDigitEvent) => void): unknown;
  on(event: 'drained', fn: () => void): unknown;
  off(event: 'drained', fn: () => void): unknown;
  play(pcm8k: Int16Array): void;
  flush(): number;
  readonly playedSamples: number;
  readonly queuedMs: number;
}

/** Caller frames queued for the VAD at most (1 s): more while it is behind are dropped, not queued without bound. */
const MAX_VAD_BACKLOG = 50;
const DEFAULT_MAX_UTTERANCE_MS = 30_000;

export interface TurnLoopSettings {
  endpointing: EndpointerOptions;
  /** Speech kept from before the detected start (the VAD needs a window or two to fire). */
  prerollMs: number;
  /** How long the agent has to answer a turn. */
  agentDeadlineMs: number;
  /** Caller speech during playout stops it. */
  bargeIn: boolean;
  voice: string;
}

export type SessionState = 'idle' | 'listening' | 'thinking' | 'speaking' | 'ended';

export interface TurnTimings {
  /** Clock time of the last voiced window of the utterance (the caller stopped talking). */
  speechEndAt: number;
  /** Clock time the endpointer decided the turn was over (speechEndAt + silence). */
  endpointAt: number;
  /** Clock time the first reply audio was queued for sending. */
  firstAudioAt: number | null;
  sttMs: number;
  agentMs: number;
  /** Time from asking TTS to its first chunk. */
  ttsFirstChunkMs: number | null;
}

export interface TurnRecord {
  transcript: string;
  dtmf: string | null;
  action: AgentAction['action'] | 'timeout' | 'error';
  reply: string | null;
  timings: TurnTimings;
}

export interface BargeIn {
  /** Reply audio the caller heard before speaking over it. */
  heardMs: number;
  /** Share of the reply's audio heard (0–1). */
  heardFraction: number;
  droppedMs: number;
  text: string;
}

export interface CallSessionEvents {
  state: [state: SessionState];
  turn: [turn: TurnRecord];
  'barge-in': [info: BargeIn];
  dtmf: [digit: string];
  /** The agent asked to end the call; emitted after its last words were played. */
  hangup: [];
  transfer: [to: string];
  error: [err: Error];
}

export interface CallSessionDeps {
  media: SessionMedia;
  inference: VoiceInference;
  agent: CallAgent;
  clock: TimerClock;
  settings: TurnLoopSettings;
  call: Pick<TurnRequest, 'callId' | 'numberId' | 'from' | 'to' | 'direction' | 'instructions'>;
}

/**
 * The conversational turn loop of one call: VAD → endpointing → STT → agent → streamed TTS,
 * with barge-in. State changes are driven by media frames (20 ms each) and the agent deadline
 * by the injected clock.
 */
export class CallSession extends EventEmitter<CallSessionEvents> {
  state: SessionState = 'idle';
  readonly history: ChatMessage[] = [];
  readonly turns: TurnRecord[] = [];
  private vad: VadSession | undefined;
  private readonly endpointer: Endpointer;
  /** The newest VAD window of caller audio (overlapping: it slides by one frame at a time). */
  private window: Int16Array = new Int16Array(0);
  private vadChain: Promise<void> = Promise.resolve();
  /** Frames waiting for the VAD; past MAX_VAD_BACKLOG new frames are dropped (counted). */
  private vadBacklog = 0;
  /** Caller frames dropped because the VAD was over a second behind (an overloaded host, a flood). */
  framesDropped = 0;
  private readonly preroll: Int16Array[] = [];
  private utterance = new Utterance();
  private lastVoicedAt = 0;
  private turnAbort: AbortController | undefined;
  private speakAbort: AbortController | undefined;
  private playing: { text: string; startSamples: number; queuedSamples: number } | undefined;

  constructor(private readonly deps: CallSessionDeps) {
    super();
    this.endpointer = new Endpointer(deps.settings.endpointing);
  }

  /** Starts listening; speaks the greeting first when there is one. */
  async start(greeting: string | null): Promise<void> {
    this.vad = await this.deps.inference.vad();
    this.window = new Int16Array(this.vad.windowSamples);
    this.deps.media.on('frame', (pcm) => this.onFrame(pcm));
    this.deps.media.on('dtmf', (e) => this.onDtmf(e.digit));
    this.setState('listening');
    if (greeting) {
      this.history.push({ role: 'assistant', content: greeting });
      void this.speak(greeting, new AbortController());
    }
  }

  stop(): void {
    this.turnAbort?.abort();
    this.speakAbort?.abort();
    this.vad?.close();
    this.setState('ended');
  }

  /** Waits until queued VAD work is done (tests and shutdown). */
  idle(): Promise<void> {
    return this.vadChain;
  }

  private setState(s: SessionState): void {
    if (this.state === s || this.state === 'ended') return;
    this.state = s;
    this.emit('state', s);
  }

  /**
   * Every frame runs the VAD on the newest window (the frame and the audio just before it), so
   * the end of a turn is decided on the frame that completes the silence, not up to a window later.
   */
  private onFrame(pcm: Int16Array): void {
    if (this.state === 'ended' || !this.vad) return;
    const arrivedAt = this.deps.clock.now();
    const size = this.window.length;
    const w = new Int16Array(size);
    if (pcm.length >= size) w.set(pcm.subarray(pcm.length - size));
    else {
      w.set(this.window.subarray(pcm.length));
      w.set(pcm, size - pcm.length);
    }
    this.window = w;
    const newSamples = Math.min(pcm.length, size);
    if (this.vadBacklog >= MAX_VAD_BACKLOG) {
      this.framesDropped++;
      return;
    }
    this.vadBacklog++;
    this.vadChain = this.vadChain
      .then(() => this.onWindow(w, newSamples, pcm, arrivedAt))
      .catch((err: unknown) => this.fail(err))
      .finally(() => this.vadBacklog--);
  }

  private async onWindow(w: Int16Array, newSamples: number, frame: Int16Array, arrivedAt: number): Promise<void> {
    if (this.state === 'ended' || !this.vad) return;
    const p = await this.vad.probability(w, newSamples);
    const hopMs = (frame.length * 1000) / SAMPLE_RATE_HZ;
    const windowMs = (w.length * 1000) / SAMPLE_RATE_HZ;
    const wasSpeech = this.endpointer.inSpeech;
    if (wasSpeech) this.utterance.add(frame);
    else {
      this.preroll.push(frame);
      while (this.preroll.length * hopMs > this.deps.settings.prerollMs) this.preroll.shift();
    }
    if (p >= this.deps.settings.endpointing.endThreshold) this.lastVoicedAt = arrivedAt;
    if (wasSpeech && this.utterance.durationMs >= (this.deps.settings.endpointing.maxUtteranceMs ?? DEFAULT_MAX_UTTERANCE_MS)) {
      // Speech with no pause this long: the turn ends here and the rest starts the next one.
      this.endpointer.reset();
      this.onSpeechEnd(arrivedAt);
      return;
    }
    const event = this.endpointer.feed(p, hopMs, windowMs);
    if (event === 'speech-start') this.onSpeechStart();
    else if (event === 'speech-end') this.onSpeechEnd(arrivedAt);
  }

  private onSpeechStart(): void {
    this.utterance = new Utterance(this.preroll.splice(0));
    if (this.state === 'speaking') {
      if (!this.deps.settings.bargeIn) return;
      this.bargeIn();
    } else if (this.state === 'thinking') {
      // The caller went on talking: this turn is superseded; its audio joins the next one.
      this.turnAbort?.abort();
      this.utterance = new Utterance([...this.pendingAudio.frames, ...this.utterance.frames]);
    }
    this.setState('listening');
  }

  private pendingAudio = new Utterance();

  private onSpeechEnd(endpointAt: number): void {
    const audio = this.utterance;
    this.utterance = new Utterance();
    this.pendingAudio = audio;
    void this.runTurn({ audio, dtmf: null, speechEndAt: this.lastVoicedAt, endpointAt });
  }

  private onDtmf(digit: string): void {
    this.emit('dtmf', digit);
    if (this.state === 'ended') return;
    const now = this.deps.clock.now();
    void this.runTurn({ audio: null, dtmf: digit, speechEndAt: now, endpointAt: now });
  }

  private bargeIn(): void {
    const p = this.playing;
    this.speakAbort?.abort();
    const droppedMs = this.deps.media.flush();
    if (!p) return;
    const heardSamples = Math.max(0, this.deps.media.playedSamples - p.startSamples);
    const heardMs = Math.round((heardSamples * 1000) / SAMPLE_RATE_HZ);
    const fraction = p.queuedSamples > 0 ? Math.min(1, heardSamples / p.queuedSamples) : 0;
    const heardText = p.text.slice(0, Math.round(p.text.length * fraction));
    // The history says what the caller actually heard, so the agent does not assume the rest.
    const last = this.history[this.history.length - 1];
    if (last?.role === 'assistant' && last.content === p.text) last.content = `${heardText}…`;
    this.playing = undefined;
    this.emit('barge-in', { heardMs, heardFraction: Math.round(fraction * 1000) / 1000, droppedMs, text: heardText });
  }

  private async runTurn(input: { audio: Utterance | null; dtmf: string | null; speechEndAt: number; endpointAt: number }): Promise<void> {
    this.turnAbort?.abort();
    const abort = new AbortController();
    this.turnAbort = abort;
    this.setState('thinking');
    const timings: TurnTimings = { speechEndAt: input.speechEndAt, endpointAt: input.endpointAt, firstAudioAt: null, sttMs: 0, agentMs: 0, ttsFirstChunkMs: null };
    const record = (action: TurnRecord['action'], transcript: string, reply: string | null) => {
      const turn: TurnRecord = { transcript, dtmf: input.dtmf, action, reply, timings };
      this.turns.push(turn);
      this.emit('turn', turn);
    };
    let transcript = '';
    try {
      if (input.audio && !input.audio.empty) {
        const stt = await this.deps.inference.transcribe(input.audio.finish(), abort.signal);
        timings.sttMs = stt.modelMs;
        transcript = stt.value.trim();
        if (abort.signal.aborted) return;
        if (transcript === '') {
          this.setState('listening');
          return;
        }
      }
      this.pendingAudio = new Utterance();
      const request: TurnRequest = { ...this.deps.call, transcript, dtmf: input.dtmf, history: [...this.history] };
      const result = await this.withDeadline((signal) => this.deps.agent.turn(request, signal), abort.signal);
      if (abort.signal.aborted) return;
      if (!result) {
        record('timeout', transcript, null);
        this.setState('listening');
        return;
      }
      timings.agentMs = result.modelMs;
      const action = result.value;
      if (transcript) this.history.push({ role: 'user', content: transcript });
      else if (input.dtmf) this.history.push({ role: 'user', content: `[pressed ${input.dtmf}]` });
      const reply = action.action === 'ignore' ? null : (action.reply ?? null);
      record(action.action, transcript, reply);
      if (reply) {
        this.history.push({ role: 'assistant', content: reply });
        await this.speak(reply, abort, timings);
      } else {
        this.setState('listening');
      }
      if (abort.signal.aborted || this.state === 'ended') return;
      if (action.action === 'hangup') this.emit('hangup');
      else if (action.action === 'transfer') this.emit('transfer', action.to);
    } catch (err) {
      if (abort.signal.aborted) return;
      record('error', transcript, null);
      this.setState('listening');
      this.emit('error', err as Error);
    }
  }

  /** The agent's answer, or undefined when the deadline passed first (the request is then aborted). */
  private withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, turn: AbortSignal): Promise<T | undefined> {
    const agentAbort = new AbortController();
    const cancel = () => agentAbort.abort();
    turn.addEventListener('abort', cancel);
    return new Promise<T | undefined>((resolve, reject) => {
      const timer = this.deps.clock.setTimeout(() => {
        agentAbort.abort();
        resolve(undefined);
      }, this.deps.settings.agentDeadlineMs);
      work(agentAbort.signal).then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (err: unknown) => {
          timer.cancel();
          if (agentAbort.signal.aborted) resolve(undefined);
          else reject(err);
        },
      );
    }).finally(() => turn.removeEventListener('abort', cancel));
  }

  /** Streams TTS into the call; resolves when it has all been played (or was cut off). */
  private async speak(text: string, abort: AbortController, timings?: TurnTimings): Promise<void> {
    this.speakAbort?.abort();
    this.speakAbort = abort;
    this.setState('speaking');
    const media = this.deps.media;
    const playing = { text, startSamples: media.playedSamples + (media.queuedMs * SAMPLE_RATE_HZ) / 1000, queuedSamples: 0 };
    this.playing = playing;
    const resampler = new Resampler(TTS_RATE_HZ, SAMPLE_RATE_HZ);
    const asked = this.deps.clock.now();
    // Only whole frames go out mid-reply (a padded partial frame would be a click of silence).
    let carry = new Int16Array(0);
    const queue = (chunk: Int16Array, last = false) => {
      if (abort.signal.aborted) return;
      const all = new Int16Array(carry.length + chunk.length);
      all.set(carry);
      all.set(chunk, carry.length);
      const whole = last ? all.length : all.length - (all.length % FRAME_SAMPLES);
      const pcm = all.subarray(0, whole);
      carry = all.slice(whole);
      if (pcm.length === 0) return;
      if (timings && timings.firstAudioAt === null) {
        timings.firstAudioAt = this.deps.clock.now();
        timings.ttsFirstChunkMs = timings.firstAudioAt - asked;
      }
      playing.queuedSamples += pcm.length;
      media.play(pcm);
    };
    try {
      for await (const chunk of this.deps.inference.speak(text, this.deps.settings.voice, abort.signal)) {
        if (abort.signal.aborted) break;
        queue(resampler.process(chunk));
        // A model that hands over many chunks at once must not hold up other calls' packets.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      queue(resampler.flush(), true);
    } catch (err) {
      if (!abort.signal.aborted) this.emit('error', err as Error);
    }
    if (!abort.signal.aborted && media.queuedMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          media.off('drained', done);
          abort.signal.removeEventListener('abort', done);
          resolve();
        };
        media.on('drained', done);
        abort.signal.addEventListener('abort', done);
      });
    }
    if (this.playing === playing) this.playing = undefined;
    if (!abort.signal.aborted && this.state === 'speaking') this.setState('listening');
  }

  private fail(err: unknown): void {
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }
}
