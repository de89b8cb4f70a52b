/** WSP well-known values (WAP-230-WSP Appendix A) and the Content-Type value codec. */
import type { WspReader, WspWriter } from './bytes.ts';

/** Assigned content type numbers (Table 40), the ones MMS meets. */
const CONTENT_TYPES: readonly string[] = [
  '*/*', 'text/*', 'text/html', 'text/plain', 'text/x-hdml', 'text/x-ttml', 'text/x-vcalendar', 'text/x-vcard',
  'text/vnd.wap.wml', 'text/vnd.wap.wmlscript', 'text/vnd.wap.wta-event', 'multipart/*', 'multipart/mixed',
  'multipart/form-data', 'multipart/byterantes', 'multipart/alternative', 'application/*', 'application/java-vm',
  'application/x-www-form-urlencoded', 'application/x-hdmlc', 'application/vnd.wap.wmlc', 'application/vnd.wap.wmlscriptc',
  'application/vnd.wap.wta-eventc', 'application/vnd.wap.uaprof', 'application/vnd.wap.wtls-ca-certificate',
  'application/vnd.wap.wtls-user-certificate', 'application/x-x509-ca-cert', 'application/x-x509-user-cert', 'image/*',
  'image/gif', 'image/jpeg', 'image/tiff', 'image/png', 'image/vnd.wap.wbmp', 'application/vnd.wap.multipart.*',
  'application/vnd.wap.multipart.mixed', 'application/vnd.wap.multipart.form-data', 'application/vnd.wap.multipart.byteranges',
  'application/vnd.wap.multipart.alternative', 'application/xml', 'text/xml', 'application/vnd.wap.wbxml',
  'application/x-x968-cross-cert', 'application/x-x968-ca-cert', 'application/x-x968-user-cert', 'text/vnd.wap.si',
  'application/vnd.wap.sic', 'text/vnd.wap.sl', 'application/vnd.wap.slc', 'text/vnd.wap.co', 'application/vnd.wap.coc',
  'application/vnd.wap.multipart.related', 'application/vnd.wap.sia', 'text/vnd.wap.connectivity-xml',
  'application/vnd.wap.connectivity-wbxml', 'application/pkcs7-mime', 'application/vnd.wap.hashed-certificate',
  'application/vnd.wap.signed-certificate', 'application/vnd.wap.cert-response', 'application/xhtml+xml',
  'application/wml+xml', 'text/css', 'application/vnd.wap.mms-message', 'application/vnd.wap.rollover-certificate',
  'application/vnd.wap.locc+wbxml', 'application/vnd.wap.loc+xml', 'application/vnd.syncml.dm+wbxml',
  'application/vnd.syncml.dm+xml', 'application/vnd.syncml.notification', 'application/vnd.wap.xhtml+xml',
  'application/vnd.wv.csp.cir', 'application/vnd.oma.dd+xml', 'application/vnd.oma.drm.message',
  'application/vnd.oma.drm.content', 'application/vnd.oma.drm.rights+xml', 'application/vnd.oma.drm.rights+wbxml',
];
const CONTENT_TYPE_CODES = new Map(CONTENT_TYPES.map((t, i) => [t, i]));

/** IANA MIBenum numbers of the charsets met in MMS. */
const CHARSETS: ReadonlyMap<number, string> = new Map([
  [3, 'us-ascii'],
  [4, 'iso-8859-1'],
  [5, 'iso-8859-2'],
  [6, 'iso-8859-3'],
  [7, 'iso-8859-4'],
  [8, 'iso-8859-5'],
  [9, 'iso-8859-6'],
  [10, 'iso-8859-7'],
  [11, 'iso-8859-8'],
  [12, 'iso-8859-9'],
  [17, 'shift_jis'],
  [106, 'utf-8'],
  [113, 'gbk'],
  [1000, 'iso-10646-ucs-2'],
  [1015, 'utf-16'],
  [2025, 'gb2312'],
  [2026, 'big5'],
]);
const CHARSET_CODES = new Map([...CHARSETS].map(([k, v]) => [v, k]));

export const MMS_CONTENT_TYPE = 'application/vnd.wap.mms-message';
export const MULTIPART_RELATED = 'application/vnd.wap.multipart.related';
export const MULTIPART_MIXED = 'application/vnd.wap.multipart.mixed';

export function charsetName(code: number): string {
  return CHARSETS.get(code) ?? `mibenum-${code}`;
}

export function charsetCode(name: string): number | undefined {
  return CHARSET_CODES.get(name.toLowerCase());
}

/** Decodes text in a WSP charset; unknown or unsupported charsets fall back to UTF-8. */
export function decodeText(bytes: Uint8Array, charset: string | undefined): string {
  // UCS-2 and UTF-16 are big-endian unless a byte order mark says otherwise (RFC 2781).
  const wide = charset === 'iso-10646-ucs-2' || charset === 'utf-16';
  const label = wide ? (bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : 'utf-16be') : (charset ?? 'utf-8');
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

export interface ContentType {
  /** Lower-case media type, e.g. "image/jpeg". */
  mediaType: string;
  /** Parameters by lower-case name: charset (as a name), name, filename, type, start, … */
  params: Record<string, string>;
}

/** Well-known parameter tokens (Table 38), both the 1.1 and the 1.4 codes. */
const PARAM_NAMES: Record<number, string> = {
  0x00: 'q', 0x01: 'charset', 0x02: 'level', 0x03: 'type', 0x05: 'name', 0x06: 'filename', 0x07: 'differences',
  0x08: 'padding', 0x09: 'type', 0x0a: 'start', 0x0b: 'start-info', 0x0c: 'comment', 0x0d: 'domain', 0x0e: 'max-age',
  0x0f: 'path', 0x10: 'secure', 0x11: 'sec', 0x12: 'mac', 0x13: 'creation-date', 0x14: 'modification-date',
  0x15: 'read-date', 0x16: 'size', 0x17: 'name', 0x18: 'filename', 0x19: 'start', 0x1a: 'start-info', 0x1b: 'comment',
  0x1c: 'domain', 0x1d: 'path',
};
/** Codes we write: the WSP 1.2 forms every handset decodes. */
const PARAM_CODES: Record<string, number> = { charset: 0x01, name: 0x05, filename: 0x06, type: 0x09, start: 0x0a };

function readParamValue(r: WspReader, name: string): string {
  const b = r.peek('parameter value');
  if (name === 'charset') {
    if (b >= 0x20 && b < 0x80) return r.text('charset').toLowerCase();
    if (b === 0x80) {
      r.byte('charset');
      return '*';
    }
    return charsetName(r.integer('charset'));
  }
  if (name === 'type' && b >= 0x80) {
    const code = r.byte('type') & 0x7f;
    return CONTENT_TYPES[code] ?? `x-wsp-type-${code}`;
  }
  if (b === 0) {
    r.byte('parameter value');
    return '';
  }
  if (b < 0x20) return String(r.longInteger(name));
  if (b >= 0x80) return String(r.byte(name) & 0x7f);
  return r.text(name);
}

function readParams(r: WspReader): Record<string, string> {
  const params: Record<string, string> = {};
  while (r.remaining > 0) {
    const b = r.peek('parameter');
    let name: string;
    if (b >= 0x80) {
      const code = r.byte('parameter') & 0x7f;
      name = PARAM_NAMES[code] ?? `x-wsp-param-${code}`;
    } else if (b >= 0x20) {
      name = r.text('parameter name').toLowerCase();
    } else {
      // Integer-valued token (long-integer form): rare, kept under its number.
      name = `x-wsp-param-${r.longInteger('parameter')}`;
    }
    params[name] = readParamValue(r, name);
  }
  return params;
}

function readMediaType(r: WspReader): string {
  const b = r.peek('media type');
  if (b >= 0x80) {
    const code = r.byte('media type') & 0x7f;
    return CONTENT_TYPES[code] ?? `application/x-wsp-${code}`;
  }
  if (b < 0x20) {
    const code = r.longInteger('media type');
    return CONTENT_TYPES[code] ?? `application/x-wsp-${code}`;
  }
  return r.text('media type').toLowerCase();
}

/** Content-type-value: a constrained media (short-integer or text) or a general form with parameters. */
export function readContentType(r: WspReader): ContentType {
  if (!r.atValueLength()) return { mediaType: readMediaType(r), params: {} };
  const len = r.valueLength('content type');
  const inner = r.window(len, 'content type');
  const mediaType = readMediaType(inner);
  return { mediaType, params: readParams(inner) };
}

export function writeContentType(w: WspWriter, ct: ContentType): void {
  const code = CONTENT_TYPE_CODES.get(ct.mediaType.toLowerCase());
  const entries = Object.entries(ct.params);
  const media = (x: WspWriter) => (code !== undefined ? x.shortInteger(code) : x.text(ct.mediaType));
  if (entries.length === 0) {
    media(w);
    return;
  }
  w.withLength((x) => {
    media(x);
    for (const [name, value] of entries) {
      const pcode = PARAM_CODES[name];
      if (pcode === undefined) {
        x.text(name).text(value);
        continue;
      }
      x.shortInteger(pcode);
      if (name === 'charset') {
        const cs = charsetCode(value);
        if (cs !== undefined) x.integer(cs);
        else x.text(value);
      } else if (name === 'type') {
        const tcode = CONTENT_TYPE_CODES.get(value.toLowerCase());
        if (tcode !== undefined) x.shortInteger(tcode);
        else x.text(value);
      } else {
        x.text(value);
      }
    }
  });
}

/** Skips one header value of any well-known form (used for headers we do not interpret). */
export function skipValue(r: WspReader): void {
  const b = r.peek('header value');
  if (b <= 31) r.take(r.valueLength('header value'), 'header value');
  else if (b < 0x80) r.cstring('header value');
  else r.byte('header value');
}
