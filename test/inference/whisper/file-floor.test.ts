import { describe, expect, it } from 'vitest';
import { CHUNK_SAMPLES, logMelMax, logMelSpectrogram } from '../../../src/inference/runners/whisper/features.ts';

/*
 * The reference computes log-mel features over the whole recording and floors them at its max − 8
 * before cutting windows: a quiet stretch keeps its detail beside a loud one only as far as the
 * loud one allows, the same in every window.
 */

const max = (a: Float32Array) => a.reduce((m, x) => Math.max(m, x), -Infinity);
const min = (a: Float32Array) => a.reduce((m, x) => Math.min(m, x), Infinity);
const tone = (n: number, amplitude: number, from = 0) => Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * 440 * (from + i)) / 16_000));

describe('Whisper features floored over the whole file', () => {
  it('logMelMax is the loudest log-mel value of the recording, whatever window it is in', () => {
    const quiet = tone(CHUNK_SAMPLES, 1e-3);
    const file = new Float32Array(CHUNK_SAMPLES + 160_000);
    file.set(quiet);
    file.set(tone(160_000, 0.5, CHUNK_SAMPLES), CHUNK_SAMPLES); // loud only after 30 s
    const own = logMelSpectrogram(file.subarray(CHUNK_SAMPLES), 80);
    const loudMax = max(own) * 4 - 4; // back from (x + 4) / 4
    expect(logMelMax(file, 80)).toBeCloseTo(loudMax, 3);
    expect(logMelMax(file, 80)).toBeGreaterThan(logMelMax(quiet, 80) + 3);
  });

  it('floors a quiet window at the file max − 8, not its own', () => {
    const quiet = new Float32Array(CHUNK_SAMPLES);
    quiet.set(tone(160_000, 1e-3)); // 10 s of a faint tone, then silence
    const fileMax = logMelMax(quiet, 80) + 5; // a louder file around it
    const alone = logMelSpectrogram(quiet, 80);
    const inFile = logMelSpectrogram(quiet, 80, undefined, fileMax);
    expect(min(inFile)).toBeCloseTo((fileMax - 8 + 4) / 4, 5);
    expect(min(alone)).toBeLessThan(min(inFile) - 0.5);
    // Above the floor nothing changes.
    const peak = alone.indexOf(max(alone));
    expect(inFile[peak]).toBeCloseTo(alone[peak]!, 6);
  });
});
