/**
 * Packet loss concealment for 20 ms G.711 frames: a lost frame repeats the last good one at
 * half the level each time (so a short gap is smoothed over, not clicked), and from the
 * fourth lost frame on, silence (repeating longer sounds like a stuck tone).
 */
export class LossConcealer {
  private last: Int16Array | undefined;
  private lostRun = 0;

  constructor(private readonly frameSamples = 160) {}

  /** Passes a good frame through (and remembers it), or makes one for a lost frame (null). */
  frame(pcm: Int16Array | null): Int16Array {
    if (pcm) {
      this.last = pcm;
      this.lostRun = 0;
      return pcm;
    }
    this.lostRun++;
    const out = new Int16Array(this.last?.length ?? this.frameSamples);
    if (!this.last || this.lostRun > 3) return out;
    const gain = 0.5 ** this.lostRun;
    for (let i = 0; i < out.length; i++) out[i] = Math.round((this.last[i] as number) * gain);
    return out;
  }
}
