import { randomBytes, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 of the bytes read as one big-endian integer (no modulo bias). */
export function base62(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out || '0';
}

/** A random id with a type prefix: num_…, key_…, call_… (16 random bytes). */
export function newId(prefix: 'num' | 'key' | 'call' | 'evt' | 'dlv'): string {
  return `${prefix}_${base62(randomBytes(16))}`;
}

/** Messages use the spec's msg_<uuid> form. */
export function newMessageId(): string {
  return `msg_${randomUUID()}`;
}
