import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import type { Config } from './schema.ts';

const KEY_BYTES = 32;

/** The 32-byte key written as 64 hex characters or as base64 (standard or URL-safe); undefined when it is neither. */
export function parseSecretsKey(text: string): Buffer | undefined {
  const t = text.trim();
  // 64 hex characters are also valid base64 (of 48 bytes), so hex is tried first.
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) return undefined;
  const key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

/** The configured key's bytes, or undefined when none is set. A key that does not parse is a ConfigError, never "no key". */
export function secretsKeyBytes(store: Config['store']): Buffer | undefined {
  if (store.secretsKey === null) return undefined;
  const key = parseSecretsKey(store.secretsKey);
  if (key === undefined) throw new ConfigError(secretsKeyProblems(store));
  return key;
}

/** Problems with the store settings that the schema cannot express; never quotes the key. */
export function secretsKeyProblems(store: Config['store']): string[] {
  if (store.secretsKey !== null && store.secretsKeyFile !== null) {
    return ['store.secretsKey: set the key or store.secretsKeyFile (AGENTPHONE_SECRETS_KEY or AGENTPHONE_SECRETS_KEY_FILE), not both'];
  }
  if (store.secretsKey !== null && parseSecretsKey(store.secretsKey) === undefined) {
    return [`store.secretsKey: must be ${KEY_BYTES} bytes written as 64 hex characters or as base64 (e.g. \`openssl rand -hex 32\`)`];
  }
  return [];
}

/** Reads store.secretsKeyFile (relative to cwd) into store.secretsKey, so the rest of the code sees one setting. */
export function readSecretsKeyFile(config: Config, cwd: string): void {
  const path = config.store.secretsKeyFile;
  if (path === null) return;
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot be read';
    throw new ConfigError([`store.secretsKeyFile: ${file}: ${reason}`]);
  }
  if (parseSecretsKey(text) === undefined) {
    throw new ConfigError([`store.secretsKeyFile: ${file} must hold ${KEY_BYTES} bytes written as 64 hex characters or as base64 (e.g. \`openssl rand -hex 32\`)`]);
  }
  config.store.secretsKeyFile = file;
  config.store.secretsKey = text.trim();
}
