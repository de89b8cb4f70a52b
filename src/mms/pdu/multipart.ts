/** WSP multipart bodies (WAP-230-WSP §8.5) with the part headers MMS uses. */
import { WspReader, WspWriter } from './bytes.ts';
import type { MmsPart } from './types.ts';
import { readContentType, skipValue, writeContentType, type ContentType } from './wsp.ts';

const CONTENT_LOCATION = 0x0e;
const CONTENT_DISPOSITION = 0x2e;
const CONTENT_DISPOSITION_14 = 0x45;
const CONTENT_ID = 0x40;

function stripBrackets(id: string): string {
  return id.startsWith('<') && id.endsWith('>') ? id.slice(1, -1) : id;
}

function readDisposition(r: WspReader): string | undefined {
  if (!r.atValueLength()) {
    skipValue(r);
    return undefined;
  }
  const inner = r.window(r.valueLength('Content-Disposition'), 'Content-Disposition');
  // The disposition token, then parameters in the Content-Type form.
  if (inner.peek('disposition') >= 0x80) inner.byte('disposition');
  else inner.text('disposition');
  const { params } = readContentType(new WspReader(new Uint8Array([0x80, ...inner.take(inner.remaining, 'disposition parameters')])));
  return params.filename ?? params.name;
}

function readPart(r: WspReader, index: number): MmsPart {
  const headersLength = r.uintvar(`part ${index} headers length`);
  const dataLength = r.uintvar(`part ${index} data length`);
  const h = r.window(headersLength, `part ${index} headers`);
  const ct: ContentType = readContentType(h);
  const part: MmsPart = { contentType: ct.mediaType, data: new Uint8Array(0) };
  if (ct.params.charset !== undefined) part.charset = ct.params.charset;
  let name = ct.params.name ?? ct.params.filename;
  while (h.remaining > 0) {
    const at = h.pos;
    const b = h.byte('part header');
    if (b >= 0x80) {
      const code = b & 0x7f;
      if (code === CONTENT_LOCATION) part.contentLocation = h.text('Content-Location');
      else if (code === CONTENT_ID) part.contentId = stripBrackets(h.text('Content-ID').replace(/^"/, ''));
      else if (code === CONTENT_DISPOSITION || code === CONTENT_DISPOSITION_14) name ??= readDisposition(h);
      else skipValue(h);
    } else if (b >= 0x20) {
      h.pos = at;
      const headerName = h.text('part header name').toLowerCase();
      const value = h.text('part header value');
      if (headerName === 'content-id') part.contentId = stripBrackets(value.replace(/^"/, ''));
      else if (headerName === 'content-location') part.contentLocation = value;
    } else {
      h.fail('MMS_INVALID_FIELD', `0x${b.toString(16)} is not a part header`, at);
    }
  }
  name ??= part.contentLocation;
  if (name !== undefined) part.name = name;
  part.data = r.take(dataLength, `part ${index} data`);
  return part;
}

export function readMultipart(r: WspReader): MmsPart[] {
  const count = r.uintvar('multipart entry count');
  const parts: MmsPart[] = [];
  // Every entry takes at least 3 bytes, so a huge count in a short body is malformed, not a hang.
  if (count > r.remaining) r.fail('MMS_INVALID_FIELD', `multipart claims ${count} entries in ${r.remaining} bytes`);
  for (let i = 0; i < count; i++) parts.push(readPart(r, i));
  return parts;
}

export function writeMultipart(w: WspWriter, parts: readonly MmsPart[]): void {
  w.uintvar(parts.length);
  for (const part of parts) {
    const h = new WspWriter();
    const params: Record<string, string> = {};
    if (part.charset !== undefined) params.charset = part.charset;
    if (part.name !== undefined) params.name = part.name;
    writeContentType(h, { mediaType: part.contentType, params });
    if (part.contentLocation !== undefined) h.byte(0x80 | CONTENT_LOCATION).text(part.contentLocation);
    if (part.contentId !== undefined) h.byte(0x80 | CONTENT_ID).byte(0x22).text(`<${part.contentId}>`);
    const headers = h.finish();
    w.uintvar(headers.length).uintvar(part.data.length).bytes(headers).bytes(part.data);
  }
}
