import type { Corpus } from './mutate.ts';

/** One decoder (or a family of decoders over the same bytes) under fuzz. */
export interface FuzzTarget {
  readonly name: string;
  readonly corpus: Corpus;
  /** Decodes one input the way the gateway would; throws what the decoder throws. */
  run(input: Uint8Array): unknown;
  /** Whether a thrown error is the decoder's own rejection of bad input (its error type, sane fields). */
  expected(err: unknown, input: Uint8Array): boolean;
  /** Why a result the decoder returned must not happen (a NaN index, a 500), or undefined. */
  check?(result: unknown, input: Uint8Array): string | undefined;
  close?(): Promise<void>;
}

/**
 * Runs each decode in turn over the same input: an expected rejection by one does not stop
 * the others; the first unexpected error is rethrown. Returns the successful results.
 */
export function each(target: Pick<FuzzTarget, 'expected'>, input: Uint8Array, decodes: readonly (() => unknown)[]): unknown[] {
  const results: unknown[] = [];
  for (const decode of decodes) {
    try {
      results.push(decode());
    } catch (err) {
      if (!target.expected(err, input)) throw err;
    }
  }
  return results;
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
