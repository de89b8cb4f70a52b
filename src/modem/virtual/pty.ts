import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ReadStream } from 'node:tty';

interface PtyAddon {
  openPty(): { master: number; slave: number; path: string };
}

let addon: PtyAddon | undefined;

function loadAddon(): PtyAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require('../../../native/build/Release/agentphone_pty.node') as PtyAddon;
  } catch (error) {
    throw new Error('the PTY addon is not built; run `npm install` (or `node native/build.mjs`)', { cause: error });
  }
  return addon;
}

/** True when the native PTY addon loads (it is built by `npm install`). */
export function ptyAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/**
 * The master side of a real pseudo-terminal. Whoever opens `path` (serialport, smsd, minicom)
 * talks to this object as if it were a serial modem.
 */
export class Pty extends EventEmitter<{ data: [Buffer]; close: [] }> {
  readonly path: string;
  #stream: ReadStream;
  #slaveFd: number | undefined;
  #closed = false;

  constructor() {
    super();
    const { master, slave, path } = loadAddon().openPty();
    this.path = path;
    // Holding the slave open keeps the master readable before a client opens the path.
    this.#slaveFd = slave;
    this.#stream = new ReadStream(master);
    this.#stream.on('data', (chunk: Buffer | string) => this.emit('data', Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1')));
    this.#stream.on('error', () => this.close());
    this.#stream.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Buffer): void {
    if (this.#closed) return;
    this.#stream.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Closes the master: to the client this is a USB unplug (the device node disappears). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.destroy();
    if (this.#slaveFd !== undefined) {
      try {
        closeSync(this.#slaveFd);
      } catch {
        // already closed
      }
      this.#slaveFd = undefined;
    }
    this.emit('close');
  }
}
