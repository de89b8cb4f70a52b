import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SileroVad } from '../../../src/voice/audio/silero-vad.ts';
import { describeWithTool, hasCommand } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';

const tempDir = useTempDir('agentphone-vad-');

/** Real speech: espeak-ng says `text`, sox makes it 8 kHz mono 16-bit raw. */
function speech(text: string): Int16Array {
  const dir = tempDir();
  const wav = join(dir, 'speech.wav');
  const raw = join(dir, 'speech.raw');
  let r = spawnSync('espeak-ng', ['-w', wav, text]);
  if (r.status !== 0) throw new Error(`espeak-ng failed: ${r.stderr}`);
  r = spawnSync('sox', [wav, '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', raw]);
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
  const b = readFileSync(raw);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function probabilities(vad: SileroVad, pcm: Int16Array): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i + 256 <= pcm.length; i += 256) out.push(await vad.probability(pcm.subarray(i, i + 256)));
  return out;
}

describeWithTool('Silero VAD (real silero_vad.onnx) on real speech', hasCommand('espeak-ng', ['--version']) && hasCommand('sox', ['--version']), 'espeak-ng and sox (Debian packages)', () => {
  let model: Awaited<ReturnType<typeof SileroVad.load>>;
  beforeAll(async () => {
    model = await SileroVad.load();
  });
  afterAll(() => model.close());

  it('hears speech in an espeak-ng sentence', async () => {
    const p = await probabilities(model.open(), speech('Hello, I would like to book a table for two tonight, please.'));
    const voiced = p.filter((x) => x > 0.5).length;
    expect(voiced / p.length).toBeGreaterThan(0.4);
    expect(Math.max(...p)).toBeGreaterThan(0.9);
  });

  it('hears nothing in silence and in low hiss', async () => {
    const vad = model.open();
    const silence = await probabilities(vad, new Int16Array(8000));
    expect(Math.max(...silence)).toBeLessThan(0.1);
    let seed = 7;
    const hiss = Int16Array.from({ length: 8000 }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 200) - 100);
    expect(Math.max(...(await probabilities(vad, hiss)))).toBeLessThan(0.3);
  });

  it('keeps state per call: the same audio scores differently warm than in a fresh session', async () => {
    const a = model.open();
    const s = speech('Yes, please.');
    const first = await probabilities(a, s);
    const again = await probabilities(a, s);
    expect(await probabilities(model.open(), s)).toEqual(first);
    expect(again).not.toEqual(first);
  });

  it('still hears the speech, and hears its end no later than 32 ms windows do', async () => {
    const s = speech('Hello, I would like to book a table for two tonight, please.');
    const pcm = new Int16Array(s.length + 8000); // then a second of silence
    pcm.set(s);
    const sliding = await slidingProbabilities(model.open(), pcm);
    const whole = await probabilities(model.open(), pcm);
    const voiced = (p: number[]) => p.filter((x) => x > 0.5).length / p.length;
    expect(Math.abs(voiced(sliding) - voiced(whole))).toBeLessThan(0.1);
    expect(Math.max(...sliding)).toBeGreaterThan(0.9);
    // Time (ms of audio) at which each first reports silence after the last speech.
    const endMs = (p: number[], hopMs: number, windowMs: number) => {
      const last = p.findLastIndex((x) => x > 0.5);
      const first = p.findIndex((x, i) => i > last && x < 0.35);
      return first * hopMs + windowMs;
    };
    expect(endMs(sliding, 20, 32)).toBeLessThanOrEqual(endMs(whole, 32, 32));
    expect(Math.max(...sliding.slice(-20))).toBeLessThan(0.1);
  });

  it('rejects a newSamples count the window cannot hold', async () => {
    await expect(model.open().probability(new Int16Array(256), 300)).rejects.toThrow(RangeError);
  });

});

/** One decision per 20 ms frame on the newest 256 samples (the call's hop). */
async function slidingProbabilities(vad: SileroVad, pcm: Int16Array): Promise<number[]> {
  const out: number[] = [];
  for (let end = 256; end <= pcm.length; end += 160) out.push(await vad.probability(pcm.subarray(end - 256, end), end === 256 ? 256 : 160));
  return out;
}
