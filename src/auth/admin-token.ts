import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base62 } from '../ids/index.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';

/** Reads the admin token written by the gateway at first start, if any. */
export function readAdminTokenFile(dataDir: string): string | undefined {
  try {
    const token = readFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

/**
 * The admin token: the configured one (AGENTPHONE_ADMIN_TOKEN), else the one in the data
 * dir, else a new one written there with mode 0600.
 */
export function ensureAdminToken(dataDir: string, configured: string | null): { token: string; generated: boolean } {
  if (configured !== null) return { token: configured, generated: false };
  const existing = readAdminTokenFile(dataDir);
  if (existing) return { token: existing, generated: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = `agpadm_${base62(randomBytes(32))}`;
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  // The create mode is masked by the umask; the token is the operator's alone whatever it is.
  chmodSync(file, 0o600);
  return { token, generated: true };
}
