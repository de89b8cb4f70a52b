import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';

/** The byte pipe under an AT channel: a serial port, or anything that acts like one. */
export interface ModemTransport {
  readonly path: string;
  write(data: string | Buffer): Promise<void>;
  close(): Promise<void>;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (error?: Error) => void): this;
  off(event: 'data', listener: (chunk: Buffer) => void): this;
  off(event: 'close', listener: (error?: Error) => void): this;
}

export type OpenTransport = (path: string) => Promise<ModemTransport>;

export interface SerialTransportOptions {
  baudRate?: number;
  /** How often to check that the device node still exists (wall time, not the injected clock). */
  presenceCheckMs?: number;
}

/**
 * serialport adapter. A vanished device node counts as a close: after a USB unplug (or a
 * virtual modem's PTY closing) Linux reads return EOF, which serialport retries forever
 * without emitting anything, so the node's presence is the reliable signal.
 */
export class SerialTransport extends EventEmitter implements ModemTransport {
  readonly path: string;
  #port: SerialPort;
  #closed = false;
  #presence: NodeJS.Timeout | undefined;

  private constructor(port: SerialPort, path: string, presenceCheckMs: number) {
    super();
    this.path = path;
    this.#port = port;
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    port.on('close', (error?: Error | null) => this.#lost(error ?? undefined));
    port.on('error', (error: Error) => this.#lost(error));
    this.#presence = setInterval(() => {
      if (!existsSync(path)) this.#lost(new Error('device node disappeared'));
    }, presenceCheckMs);
    this.#presence.unref();
  }

  static open(path: string, options: SerialTransportOptions = {}): Promise<SerialTransport> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: options.baudRate ?? 115200, autoOpen: false, hupcl: false });
      port.open((error) => {
        if (error) reject(error);
        else resolve(new SerialTransport(port, path, options.presenceCheckMs ?? 500));
      });
    });
  }

  write(data: string | Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('port is closed'));
    return new Promise((resolve, reject) => {
      this.#port.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.#port.isOpen) {
      await new Promise<void>((resolve) => this.#port.close(() => resolve()));
    }
    this.#lost(undefined);
  }

  #lost(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#presence);
    this.emit('close', error);
    try {
      if (this.#port.isOpen) this.#port.close(() => undefined);
    } catch {
      // closing a port whose device vanished may throw; it is gone either way
    }
  }
}

export const openSerialTransport: OpenTransport = (path) => SerialTransport.open(path);
