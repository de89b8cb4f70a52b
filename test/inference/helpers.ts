import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestModels, type ModelRuntime } from '../../src/inference/index.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Bump when the generator changes so cached models are rebuilt. */
const GENERATION = 'v2';

/**
 * The generated tiny models, built once per checkout into a gitignored cache
 * (node_modules/.cache), atomically so parallel test files can share them.
 */
export function testModelsDir(): string {
  const dir = join(repoRoot, 'node_modules', '.cache', 'agentphone-test-models', GENERATION);
  if (existsSync(join(dir, '.complete'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  makeTestModels(tmp);
  writeFileSync(join(tmp, '.complete'), 'ok');
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race
  }
  return dir;
}

/** A 16-bit PCM mono WAV of `seconds` of a tone at `rateHz`. */
export function toneWav(seconds: number, rateHz = 16_000, freqHz = 440): Buffer {
  const n = Math.round(seconds * rateHz);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rateHz, 24);
  buf.writeUInt32LE(rateHz * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * freqHz * i) / rateHz) * 12000), 44 + i * 2);
  return buf;
}

/** A temp dir that lives until the process exits (for suites that share one gateway). */
export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-inference-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The runtime of a generated decoder-only model on one CPU thread. */
export function cpuRuntime(name: string, dir: string): ModelRuntime {
  return { name, family: 'llm', dir, dtype: 'fp32', session: { provider: 'cpu', deviceId: 0, intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all', memoryArena: true } };
}
