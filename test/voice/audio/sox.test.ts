import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeG711, encodeG711 } from '../../../src/voice/audio/g711.ts';
import { resample } from '../../../src/voice/audio/resampler.ts';
import { describeWithTool, hasCommand } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { chirp, snrDb, tone } from './signals.ts';

const tempDir = useTempDir('agentphone-sox-');

function sox(args: string[]): void {
  const res = spawnSync('sox', ['-D', '-V1', ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`sox ${args.join(' ')} failed: ${res.stderr}`);
}

function raw(rate: number, encoding = 'signed', bits = 16): string[] {
  return ['-t', 'raw', '-r', String(rate), '-e', encoding, '-b', String(bits), '-c', '1'];
}

function soxResample(input: Int16Array, fromHz: number, toHz: number): Int16Array {
  const dir = tempDir();
  const inFile = join(dir, 'in.raw');
  const outFile = join(dir, 'out.raw');
  writeFileSync(inFile, Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  sox([...raw(fromHz), inFile, ...raw(toHz), outFile, 'rate', '-v', String(toHz)]);
  const b = readFileSync(outFile);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describeWithTool('audio against sox', hasCommand('sox', ['--version']), 'sox (Debian package sox)', () => {
  for (const [from, to] of [
    [24_000, 8000],
    [16_000, 8000],
    [8000, 16_000],
  ] as const) {
    it(`resamples ${from} → ${to} Hz like sox within 60 dB for the voice band`, () => {
      // Voice band plus a tone above the 8 kHz Nyquist frequency that both must remove.
      const voice = chirp(100, 3300, from, from);
      const alias = tone(Math.min(5000, from / 2 - 500), from, from, 3000);
      const input = voice.map((v, i) => v + (from > 8000 ? (alias[i] as number) : 0));
      const ours = resample(input, from, to);
      const theirs = soxResample(input, from, to);
      expect(Math.abs(theirs.length - ours.length)).toBeLessThanOrEqual(1);
      const edge = Math.round(to / 50);
      expect(snrDb(theirs, ours, edge, Math.min(ours.length, theirs.length) - edge)).toBeGreaterThan(60);
    });
  }

  it('decodes every µ-law and A-law byte exactly as sox does', () => {
    const dir = tempDir();
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    writeFileSync(join(dir, 'codes'), codes);
    for (const [law, encoding] of [
      ['pcmu', 'u-law'],
      ['pcma', 'a-law'],
    ] as const) {
      sox([...raw(8000, encoding, 8), join(dir, 'codes'), ...raw(8000), join(dir, `${law}.raw`)]);
      const b = readFileSync(join(dir, `${law}.raw`));
      expect(Array.from(decodeG711(law, codes))).toEqual(Array.from(new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + 512))));
    }
  });

  it('encodes every 16-bit sample to the code sox picks, or the adjacent one where sox rounds up', () => {
    const dir = tempDir();
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    writeFileSync(join(dir, 'all.raw'), Buffer.from(all.buffer));
    for (const [law, encoding] of [
      ['pcmu', 'u-law'],
      ['pcma', 'a-law'],
    ] as const) {
      sox([...raw(8000), join(dir, 'all.raw'), ...raw(8000, encoding, 8), join(dir, `${law}.g711`)]);
      const theirs = decodeG711(law, new Uint8Array(readFileSync(join(dir, `${law}.g711`))));
      const ours = decodeG711(law, encodeG711(law, all));
      let differing = 0;
      for (let i = 0; i < all.length; i++) {
        if (ours[i] === theirs[i]) continue;
        differing++;
        // Where they differ, the sample lies between the two levels: both are a nearest step.
        const s = all[i] as number;
        const lo = Math.min(ours[i] as number, theirs[i] as number);
        const hi = Math.max(ours[i] as number, theirs[i] as number);
        expect(s >= lo - 4 && s <= hi + 4).toBe(true);
      }
      expect(differing / all.length).toBeLessThan(0.02);
    }
  });
});
