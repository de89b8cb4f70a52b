/** Time as the voice code sees it: a monotonic ms clock with timers, injected so tests drive it. */
export interface VoiceTimer {
  cancel(): void;
}

export interface VoiceClock {
  /** Monotonic milliseconds (not wall time). */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): VoiceTimer;
}

export const systemVoiceClock: VoiceClock = {
  now: () => performance.now(),
  setTimeout(fn, delayMs) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};
