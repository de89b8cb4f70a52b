/** UCS-2 user data as UTF-16BE code units; astral characters travel as surrogate pairs. */

/**
 * Decodes UTF-16BE. Lone surrogates are kept as they are, because senders split pairs
 * across concatenated parts and reassembly joins them again; a dangling odd byte reads
 * as U+FFFD.
 */
export function decodeUcs2(bytes: Uint8Array): string {
  const units = bytes.length >> 1;
  let s = '';
  for (let i = 0; i < units; i += 4096) {
    const end = Math.min(units, i + 4096);
    const chunk = new Array<number>(end - i);
    for (let j = i; j < end; j++) chunk[j - i] = ((bytes[2 * j] as number) << 8) | (bytes[2 * j + 1] as number);
    s += String.fromCharCode(...chunk);
  }
  return bytes.length % 2 === 1 ? `${s}\uFFFD` : s;
}
