import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/** A loopback HTTP server that serves the files it is given (what an agent's media URLs point at). */
export class MediaServer {
  readonly files = new Map<string, { type: string; data: Uint8Array }>();
  readonly redirects = new Map<string, string>();
  private server: Server | undefined;
  base = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const to = this.redirects.get(path);
      if (to) return void res.writeHead(302, { location: to }).end();
      const file = this.files.get(path);
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.data.length });
      res.end(file.data);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  add(path: string, type: string, data: Uint8Array): string {
    this.files.set(path, { type, data });
    return `${this.base}${path}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A PNG of seeded noise: big, and hard to compress, like a photo. */
export async function noisePng(width: number, height: number, seed = 1): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < raw.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    raw[i] = s >>> 24;
  }
  return new Uint8Array(await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

export async function smallJpeg(): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } }).jpeg().toBuffer());
}
