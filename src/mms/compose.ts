/** Between messages and MMS PDUs: an outgoing message as m-send-req parts, a retrieved one as text + media. */
import { decodeText, MULTIPART_RELATED, type MmsPart, type MmsPdu } from './pdu/index.ts';

export interface OutgoingMms {
  from?: string | null;
  to: string[];
  text: string;
  media: readonly { contentType: string; name: string; data: Uint8Array }[];
  transactionId: string;
  subject?: string;
  deliveryReport?: boolean;
  date?: Date;
}

const encoder = new TextEncoder();
const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** "+15551234567" → "+15551234567/TYPE=PLMN"; e-mail addresses stay as they are. */
export function toMmsAddress(phone: string): string {
  return phone.includes('@') || phone.includes('/TYPE=') ? phone : `${phone}/TYPE=PLMN`;
}

/** "+15551234567/TYPE=PLMN" → "+15551234567". */
export function fromMmsAddress(address: string): string {
  return address.replace(/\/TYPE=[^/]*$/i, '');
}

function smil(regions: { image: boolean; text: boolean }, slides: { kind: 'img' | 'video' | 'audio' | 'ref' | 'text'; src: string }[]): string {
  const layout = [
    '<root-layout width="100%" height="100%"/>',
    regions.image ? '<region id="Image" left="0" top="0" width="100%" height="80%" fit="meet"/>' : '',
    regions.text ? '<region id="Text" left="0" top="80%" width="100%" height="20%" fit="scroll"/>' : '',
  ].join('');
  const pars = slides
    .map(({ kind, src }) => {
      const region = kind === 'text' ? ' region="Text"' : kind === 'img' || kind === 'video' ? ' region="Image"' : '';
      return `<par dur="5000ms"><${kind} src="${escapeXml(src)}"${region}/></par>`;
    })
    .join('');
  return `<smil><head><layout>${layout}</layout></head><body>${pars}</body></smil>`;
}

/** m-send-req: From as the insert-address token, a SMIL part first, then text (UTF-8) and media. */
export function composeSendReq(m: OutgoingMms): MmsPdu {
  const parts: MmsPart[] = [];
  const slides: { kind: 'img' | 'video' | 'audio' | 'ref' | 'text'; src: string }[] = [];
  const used = new Set<string>();
  const unique = (name: string) => {
    let n = name;
    for (let i = 2; used.has(n); i++) n = name.replace(/(\.\w+)?$/, `-${i}$1`);
    used.add(n);
    return n;
  };
  m.media.forEach((item) => {
    const name = unique(item.name);
    const kind = item.contentType.startsWith('image/') ? 'img' : item.contentType.startsWith('video/') ? 'video' : item.contentType.startsWith('audio/') ? 'audio' : 'ref';
    slides.push({ kind, src: name });
    parts.push({ contentType: item.contentType, name, contentId: name, contentLocation: name, data: item.data, ...(item.contentType.startsWith('text/') && { charset: 'utf-8' }) });
  });
  if (m.text !== '') {
    const name = unique('text.txt');
    slides.push({ kind: 'text', src: name });
    parts.push({ contentType: 'text/plain', charset: 'utf-8', name, contentId: name, contentLocation: name, data: encoder.encode(m.text) });
  }
  const smilPart: MmsPart = {
    contentType: 'application/smil',
    charset: 'utf-8',
    name: 'smil.xml',
    contentId: 'smil',
    contentLocation: 'smil.xml',
    data: encoder.encode(smil({ image: slides.some((s) => s.kind === 'img' || s.kind === 'video'), text: m.text !== '' }, slides)),
  };
  return {
    type: 'm-send-req',
    transactionId: m.transactionId,
    version: '1.2',
    ...(m.date && { date: m.date }),
    from: m.from === undefined || m.from === null ? null : toMmsAddress(m.from),
    to: m.to.map(toMmsAddress),
    ...(m.subject !== undefined && { subject: m.subject }),
    messageClass: 'personal',
    deliveryReport: m.deliveryReport ?? true,
    readReport: false,
    contentType: { mediaType: MULTIPART_RELATED, params: { start: '<smil>', type: 'application/smil' } },
    parts: [smilPart, ...parts],
  };
}

export interface ReceivedMms {
  from: string | null;
  to: string[];
  subject: string | null;
  /** Plain-text parts, in order, joined by a new line. */
  text: string;
  /** Every part that is neither SMIL nor plain text. */
  media: MmsPart[];
}

/** What a retrieved message (m-retrieve-conf) or a sent one (m-send-req) carries, SMIL dropped. */
export function readMessage(pdu: MmsPdu): ReceivedMms {
  const parts = pdu.parts ?? (pdu.body && pdu.contentType ? [{ contentType: pdu.contentType.mediaType, data: pdu.body }] : []);
  const texts: string[] = [];
  const media: MmsPart[] = [];
  for (const part of parts) {
    if (part.contentType === 'application/smil') continue;
    if (part.contentType === 'text/plain') texts.push(decodeText(part.data, part.charset));
    else media.push(part);
  }
  return {
    from: pdu.from ? fromMmsAddress(pdu.from) : null,
    to: (pdu.to ?? []).map(fromMmsAddress),
    subject: pdu.subject ?? null,
    text: texts.join('\n'),
    media,
  };
}
