import { describe, expect, it } from 'vitest';
import { resample } from '../../../src/voice/audio/resampler.ts';
import { Utterance } from '../../../src/voice/session/utterance.ts';
import { tone } from '../audio/signals.ts';

describe('Utterance', () => {
  it('converts frame by frame to exactly what a one-shot resample of the whole utterance gives', () => {
    const pcm = tone(300, 8000, 8000 * 0.74, 6000);
    const u = new Utterance();
    for (let i = 0; i < pcm.length; i += 160) u.add(pcm.subarray(i, i + 160));
    expect(u.frames).toHaveLength(37);
    expect(u.finish()).toEqual(resample(pcm, 8000, 16_000));
  });

  it('is empty with no frames', () => {
    expect(new Utterance().empty).toBe(true);
    expect(new Utterance([new Int16Array(160)]).empty).toBe(false);
  });
});
