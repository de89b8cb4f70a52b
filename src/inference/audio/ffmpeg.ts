import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioDecodeError } from './wav.ts';

/** The ffmpeg binary (Debian package `ffmpeg`); tests may point at another. */
export const FFMPEG = 'ffmpeg';

const OUT_RATE_HZ = 16_000;

/** What every path that needs ffmpeg says when it is missing, after naming what needed it. */
export const FFMPEG_MISSING = 'needs ffmpeg, which is not installed (apt-get install ffmpeg)';

const found = new Set<string>();

/**
 * Whether ffmpeg runs here, asked when a request needs it (not once at start): an ffmpeg
 * installed while the gateway runs is used by the next request. Only a success is
 * remembered; a missing ffmpeg is asked again each time, which only costs the failing path.
 */
export function ffmpegAvailable(binary: string = FFMPEG): Promise<boolean> {
  if (found.has(binary)) return Promise.resolve(true);
  return new Promise((resolve) => {
    execFile(binary, ['-version'], { timeout: 10_000, maxBuffer: 1_048_576 }, (err) => {
      if (!err) found.add(binary);
      resolve(!err);
    });
  });
}

export interface FfmpegDecodeOptions {
  signal?: AbortSignal;
  /** Longest decoded audio accepted: ffmpeg is stopped once its output passes this. */
  maxSeconds?: number;
  binary?: string;
}

/**
 * Decodes any container/codec ffmpeg knows (MP3, WebM/Opus, Ogg, M4A/AAC, FLAC, ...) to
 * 16 kHz mono float32 by running ffmpeg as a child process. The upload goes through a
 * temporary file, not a pipe: MP3 gapless trimming and M4A files whose index comes last
 * need a seekable input.
 */
export async function decodeWithFfmpeg(bytes: Uint8Array, options: FfmpegDecodeOptions = {}): Promise<Float32Array> {
  const file = join(tmpdir(), `agentphone-audio-${randomUUID()}`);
  await writeFile(file, bytes, { mode: 0o600 });
  try {
    return await runFfmpeg(file, options);
  } finally {
    await rm(file, { force: true });
  }
}

function runFfmpeg(file: string, options: FfmpegDecodeOptions): Promise<Float32Array> {
  const { signal, maxSeconds = Number.POSITIVE_INFINITY } = options;
  // A few kilobytes of Opus can decode to hours of audio: the output, not the upload, is what is bounded.
  const maxBytes = maxSeconds * OUT_RATE_HZ * 4;
  return new Promise((resolve, reject) => {
    const child = spawn(
      options.binary ?? FFMPEG,
      ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-vn', '-ac', '1', '-ar', String(OUT_RATE_HZ), '-f', 'f32le', 'pipe:1'],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(signal && { signal }) },
    );
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLong = false;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      if (tooLong) return;
      received += c.length;
      if (received > maxBytes) {
        tooLong = true;
        chunks.length = 0;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new AudioDecodeError(`this audio format ${FFMPEG_MISSING}`));
      else reject(err);
    });
    child.on('close', (code) => {
      if (tooLong) {
        reject(new AudioDecodeError(`the audio is longer than ${maxSeconds} s, the most accepted`));
        return;
      }
      if (code !== 0) {
        reject(new AudioDecodeError(`the audio could not be decoded${stderr ? `: ${stderr.split('\n')[0]?.replace(file, 'input').replace(/^input:?\s*/, '')}` : ''}`));
        return;
      }
      const all = Buffer.concat(chunks);
      const out = new Float32Array(Math.floor(all.length / 4));
      new Uint8Array(out.buffer).set(all.subarray(0, out.length * 4));
      resolve(out);
    });
  });
}
