import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioDecodeError } from './wav.ts';

/** The ffmpeg binary (Debian package `ffmpeg`); tests may point at another. */
export const FFMPEG = 'ffmpeg';

/**
 * Decodes any container/codec ffmpeg knows (MP3, WebM/Opus, Ogg, M4A/AAC, FLAC, ...) to
 * 16 kHz mono float32 by running ffmpeg as a child process. The upload goes through a
 * temporary file, not a pipe: MP3 gapless trimming and M4A files whose index comes last
 * need a seekable input.
 */
export async function decodeWithFfmpeg(bytes: Uint8Array, signal?: AbortSignal, binary = FFMPEG): Promise<Float32Array> {
  const file = join(tmpdir(), `agentphone-audio-${randomUUID()}`);
  await writeFile(file, bytes, { mode: 0o600 });
  try {
    return await runFfmpeg(file, signal, binary);
  } finally {
    await rm(file, { force: true });
  }
}

function runFfmpeg(file: string, signal: AbortSignal | undefined, binary: string): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '16000', '-f', 'f32le', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal && { signal }),
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new AudioDecodeError('this audio format needs ffmpeg, which is not installed (apt-get install ffmpeg)'));
      else reject(err);
    });
    child.on('close', (code) => {
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
