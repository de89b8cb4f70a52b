/** The media an MMS may carry, and telling them apart by their first bytes. */

export const ALLOWED_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg', 'image/png', 'image/gif', 'video/mp4', 'video/3gpp', 'audio/amr', 'audio/mpeg', 'text/vcard', 'text/x-vcard', 'text/plain',
]);

const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/x-amr': 'audio/amr',
  'text/directory': 'text/vcard',
};

/** Lower-case media type without parameters, with common aliases folded. */
export function normalizeType(header: string | undefined | null): string {
  const t = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return ALIASES[t] ?? t;
}

const startsWith = (d: Uint8Array, sig: readonly number[], at = 0) => sig.every((b, i) => d[at + i] === b);

/** The type the bytes show, for the formats on the allowlist; undefined when unsure. */
export function sniffType(d: Uint8Array): string | undefined {
  if (startsWith(d, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(d, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(d, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (startsWith(d, [0x23, 0x21, 0x41, 0x4d, 0x52])) return 'audio/amr';
  if (startsWith(d, [0x49, 0x44, 0x33]) || (d[0] === 0xff && ((d[1] ?? 0) & 0xe0) === 0xe0)) return 'audio/mpeg';
  if (startsWith(d, [0x66, 0x74, 0x79, 0x70], 4)) {
    const brand = String.fromCharCode(...d.subarray(8, 11));
    return brand === '3gp' || brand === '3g2' ? 'video/3gpp' : 'video/mp4';
  }
  if (/^BEGIN:VCARD/i.test(Buffer.from(d.subarray(0, 11)).toString('latin1'))) return 'text/vcard';
  return undefined;
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'video/mp4': 'mp4', 'video/3gpp': '3gp', 'audio/amr': 'amr',
  'audio/mpeg': 'mp3', 'text/vcard': 'vcf', 'text/x-vcard': 'vcf', 'text/plain': 'txt',
};

/** The extension a stored or sent part gets in its name. */
export function extensionOf(type: string): string {
  return EXTENSIONS[type] ?? 'bin';
}

/** The type a file name's extension stands for (how a modem's MMS client types its files). */
export function typeOfName(name: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (ext === 'jpeg') return 'image/jpeg';
  return Object.entries(EXTENSIONS).find(([, e]) => e === ext)?.[0];
}
