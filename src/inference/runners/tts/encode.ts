import { spawn } from 'node:child_process';
import { UnavailableError } from '../../../errors/index.ts';
import { FFMPEG, FFMPEG_MISSING } from '../../audio/ffmpeg.ts';
import { SAMPLE_RATE_HZ } from './snac-codes.ts';

export type CompressedFormat = 'mp3' | 'opus' | 'flac';

const ARGS: Record<CompressedFormat, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'],
  opus: ['-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg'],
  flac: ['-c:a', 'flac', '-f', 'flac'],
};

export const CONTENT_TYPES = { wav: 'audio/wav', pcm: 'audio/pcm', mp3: 'audio/mpeg', opus: 'audio/ogg', flac: 'audio/flac' } as const;

/**
 * Encodes 24 kHz s16le mono PCM as it comes with ffmpeg (Debian's, run as a child process),
 * yielding the encoded bytes as ffmpeg writes them.
 */
export async function* encodeWithFfmpeg(pcm: AsyncIterable<Buffer>, format: CompressedFormat, signal: AbortSignal, binary = FFMPEG): AsyncGenerator<Buffer> {
  const child = spawn(binary, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', String(SAMPLE_RATE_HZ), '-ac', '1', '-i', 'pipe:0', ...ARGS[format], 'pipe:1'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new UnavailableError(`response_format ${format} ${FFMPEG_MISSING}`, { retryable: false }) : err),
    );
    child.once('close', resolve);
  });
  exited.catch(() => undefined);
  const kill = () => child.kill('SIGKILL');
  signal.addEventListener('abort', kill, { once: true });
  const feed = (async () => {
    try {
      for await (const chunk of pcm) {
        if (!child.stdin.write(chunk)) await new Promise((resolve) => child.stdin.once('drain', resolve));
      }
      child.stdin.end();
    } catch (err) {
      kill();
      throw err;
    }
  })();
  feed.catch(() => undefined);
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    await feed;
    const code = await exited;
    if (code !== 0 && !signal.aborted) throw new Error(`ffmpeg failed (${code}): ${stderr.trim()}`);
  } finally {
    signal.removeEventListener('abort', kill);
    if (child.exitCode === null) kill();
  }
}
