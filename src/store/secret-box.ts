import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { StoreError } from '../errors/index.ts';

/** Marks a sealed value; the version names the scheme so a later one can sit beside it in the same column. */
const PREFIX = 'enc:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals secrets kept in the store (webhook signing secrets) with AES-256-GCM, as
 * `enc:v1:<base64(nonce | ciphertext | tag)>`, so sealed and legacy plaintext values share one
 * column and no migration is needed. Each value is bound to its row (`context`, e.g. the number
 * id): a sealed value copied to another row does not open. Without a key, plaintext passes
 * through and a sealed value is refused rather than handed out as a secret.
 */
export class SecretBox {
  private readonly key: Buffer | undefined;

  constructor(key?: Uint8Array) {
    if (key !== undefined && key.length !== 32) throw new StoreError('The secrets key must be 32 bytes');
    this.key = key && Buffer.from(key);
  }

  get sealing(): boolean {
    return this.key !== undefined;
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  /** The value to store: sealed when a key is configured, else the plaintext itself. */
  seal(plain: string, context: string): string {
    if (this.key === undefined) return plain;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** The plaintext of a stored value; throws a StoreError when it is sealed and this key cannot open it. */
  open(stored: string, context: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    if (this.key === undefined) {
      throw new StoreError(
        'The store holds sealed webhook secrets but no key is configured: set AGENTPHONE_SECRETS_KEY or store.secretsKeyFile to the key they were sealed with',
      );
    }
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw wrongKey();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw wrongKey(err);
    }
  }
}

function wrongKey(cause?: unknown): StoreError {
  return new StoreError(
    'The configured secrets key (AGENTPHONE_SECRETS_KEY or store.secretsKeyFile) does not open the webhook secrets in the store: it is not the key they were sealed with, or the value is damaged',
    { cause },
  );
}
