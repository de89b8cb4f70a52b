import { EventEmitter } from 'node:events';
import type { ModemTransport } from '../../src/modem/at/transport.ts';

/** An in-memory transport: the test plays the modem by pushing bytes. */
export class FakeTransport extends EventEmitter implements ModemTransport {
  readonly path = '/dev/fake0';
  readonly written: string[] = [];
  closed = false;

  write(data: string | Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('closed'));
    this.written.push(data.toString());
    this.emit('written', data.toString());
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', undefined);
  }

  /** The modem says something. */
  push(text: string): void {
    this.emit('data', Buffer.from(text, 'latin1'));
  }

  unplug(): void {
    this.closed = true;
    this.emit('close', new Error('unplugged'));
  }
}
