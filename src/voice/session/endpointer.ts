export interface EndpointerOptions {
  /** Probability at or above which a window is speech. */
  startThreshold: number;
  /** Probability below which a window is silence (hysteresis: between the two keeps the state). */
  endThreshold: number;
  /** Speech this long (ms) makes a start of speech; shorter blips are ignored. */
  minSpeechMs: number;
  /** Silence this long (ms) after speech ends the utterance. */
  silenceMs: number;
  /**
   * The longest utterance (ms): speech that runs on this long (a caller who never pauses, noise
   * the VAD takes for speech) ends the turn there, so no utterance grows without bound. Default
   * 30 000, one Whisper window.
   */
  maxUtteranceMs?: number;
}

export type EndpointEvent = 'speech-start' | 'speech-end' | null;

/**
 * Turns per-window speech probabilities into utterance boundaries. Pure and clock-free: time is
 * the audio fed, so endpointing is exact and deterministic.
 *
 * Windows may overlap (VAD on the newest window every 20 ms frame): each decision covers `hopMs`
 * of new audio, and the first window of a run of speech or silence counts whole (`windowMs`),
 * since all of it was judged. So silence is counted to the frame, and the utterance ends on the
 * first frame at which `silenceMs` of it has been heard.
 */
export class Endpointer {
  private speaking = false;
  private speechRunMs = 0;
  private silenceRunMs = 0;
  /** Time (ms of windows fed) at which the current or last utterance's speech ended. */
  lastSpeechEndMs = 0;
  elapsedMs = 0;

  constructor(private readonly options: EndpointerOptions) {}

  get inSpeech(): boolean {
    return this.speaking;
  }

  feed(probability: number, hopMs: number, windowMs = hopMs): EndpointEvent {
    this.elapsedMs += hopMs;
    const o = this.options;
    if (!this.speaking) {
      if (probability >= o.startThreshold) {
        this.speechRunMs += this.speechRunMs === 0 ? windowMs : hopMs;
        if (this.speechRunMs >= o.minSpeechMs) {
          this.speaking = true;
          this.silenceRunMs = 0;
          return 'speech-start';
        }
      } else if (probability < o.endThreshold) {
        this.speechRunMs = 0;
      }
      return null;
    }
    if (probability < o.endThreshold) {
      if (this.silenceRunMs === 0) this.lastSpeechEndMs = Math.max(0, this.elapsedMs - windowMs);
      this.silenceRunMs += this.silenceRunMs === 0 ? windowMs : hopMs;
      if (this.silenceRunMs >= o.silenceMs) {
        this.speaking = false;
        this.speechRunMs = 0;
        this.silenceRunMs = 0;
        return 'speech-end';
      }
    } else if (probability >= o.startThreshold) {
      this.silenceRunMs = 0;
    }
    return null;
  }

  reset(): void {
    this.speaking = false;
    this.speechRunMs = 0;
    this.silenceRunMs = 0;
  }
}
