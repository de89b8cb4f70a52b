import { randomBytes, randomFillSync } from 'node:crypto';

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

/**
 * Messages use the spec's msg_<uuid> form, with a version 7 UUID (RFC 9562): it starts with
 * the creation time in milliseconds, so new rows land at the end of the primary-key index
 * instead of at random pages all over it.
 */
export function newMessageId(now = Date.now()): string {
  return `msg_${uuidV7(now)}`;
}

/** Random bytes for ids, drawn 4 KiB at a time (one system call per 256 ids, not one each). */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function random16(): Buffer {
  if (poolAt >= pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 16;
  return Buffer.from(pool.subarray(poolAt - 16, poolAt));
}

export function uuidV7(now: number): string {
  const bytes = random16();
  let ms = Math.max(0, Math.floor(now));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
