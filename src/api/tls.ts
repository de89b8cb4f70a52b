import { readFileSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import { ConfigError } from '../errors/index.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Reads the PEM certificate (chain) and key; a missing or unreadable file is a ConfigError naming it. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError([`server.tls.${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
  };
  return { cert: read(files.certFile, 'certFile'), key: read(files.keyFile, 'keyFile') };
}

/**
 * Re-reads the certificate and key and installs them for new TLS handshakes; connections
 * already open keep the session they negotiated. A bad pair (unreadable, mismatched, not PEM)
 * throws and leaves the current certificate serving.
 */
export function reloadTls(server: unknown, files: TlsFiles): void {
  const material = readTlsMaterial(files);
  try {
    (server as TlsServer).setSecureContext({ cert: material.cert, key: material.key });
  } catch (err) {
    throw new ConfigError([`server.tls: the certificate and key cannot be used together (${(err as Error).message})`]);
  }
}
