/**
 * The virtual network's MMSC: takes m-send-req over loopback HTTP, delivers to virtual
 * subscribers (an MMS inbox per phone) or, for a virtual line, sends the WAP push
 * notification to its modem and serves the m-retrieve-conf when the line fetches it.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModemMmsRequest, ModemMmsResult, SubscriberMms, SubscriberMmsEntry, VirtualModem, VirtualNetwork } from '../../modem/index.ts';
import { composeSendReq, fromMmsAddress, readMessage, toMmsAddress } from '../compose.ts';
import { sniffType, typeOfName } from '../media/content-types.ts';
import { decodeMms, encodeMms, encodeWapPush, MMS_CONTENT_TYPE, MmsError, WAP_PUSH_PORT, WAP_PUSH_SOURCE_PORT, type MmsPart, type MmsPdu } from '../pdu/index.ts';

interface Stored {
  id: string;
  from: string;
  to: string;
  retrieveConf: Uint8Array;
  /** The line that sent it and the id its m-send-conf gave, for the delivery report. */
  senderLine: string | null;
  mmsMessageId: string;
  deliveryReport: boolean;
  retrieved: boolean;
}

export interface VirtualMmscOptions {
  network: VirtualNetwork;
  /** The largest m-send-req accepted; larger ones get "content not accepted". */
  maxMessageBytes: number;
  /** Where the WAP push SMS come from. */
  pushOriginator?: string;
}

const CONTENT_NOT_ACCEPTED = 0xe5;
const OK = 0x80;

export class VirtualMmsc extends EventEmitter<{ inbox: [string]; retrieved: [string] }> {
  private server: Server | undefined;
  private base = '';
  private readonly messages = new Map<string, Stored>();
  private pushTid = 0;

  constructor(private readonly o: VirtualMmscOptions) {
    super();
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(err instanceof MmsError ? 400 : 500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? err.message : 'error');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.o.network.modemMmsClient = (modem, request) => this.modemClientSend(modem, request);
    return this.base;
  }

  async stop(): Promise<void> {
    this.o.network.modemMmsClient = undefined;
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The MMSC URL a virtual line posts to (the line is known by the URL, as a real MMSC knows the bearer). */
  urlFor(lineId: string): string {
    return `${this.base}/mms/${encodeURIComponent(lineId)}`;
  }

  /** The MMS a subscriber phone received, oldest first, each part with its bytes. */
  inbox(phone: string): SubscriberMms[] {
    const inbox = this.o.network.subscriberInbox;
    return inbox.mms(phone).map((m) => ({ ...m, media: m.media.flatMap((part) => inbox.mediaPart(part.id) ?? []) }));
  }

  /** The same, each part by id, type, name and size (its bytes from mediaPart). */
  entries(phone: string): SubscriberMmsEntry[] {
    return this.o.network.subscriberInbox.mms(phone);
  }

  mediaPart(id: string): SubscriberMms['media'][number] | undefined {
    return this.o.network.subscriberInbox.mediaPart(id);
  }

  /** A virtual subscriber sends an MMS (text and files) to a number on the network. */
  subscriberSend(from: string, to: string, text: string, media: { contentType: string; name: string; data: Uint8Array }[]): void {
    const pdu = composeSendReq({ from, to: [to], text, media, transactionId: this.id(), deliveryReport: false });
    this.route(from, null, pdu, 'subscriber');
  }

  /**
   * What the MMS client inside a Quectel or SIMCom modem does on AT+QMMSEND / AT+CMMSSEND:
   * builds an m-send-req from its edit buffer (files typed by content, else by extension) and
   * posts it over HTTP to the MMSC URL it was configured with.
   */
  private async modemClientSend(_modem: VirtualModem, request: ModemMmsRequest): Promise<ModemMmsResult> {
    const decoder = new TextDecoder();
    const texts: string[] = [];
    const media: { contentType: string; name: string; data: Uint8Array }[] = [];
    for (const file of request.files) {
      const type = sniffType(file.data) ?? typeOfName(file.name) ?? 'application/octet-stream';
      if (type === 'text/plain') texts.push(decoder.decode(file.data));
      else media.push({ contentType: type, name: file.name, data: file.data });
    }
    const pdu = composeSendReq({ from: null, to: request.to, text: texts.join('\n'), media, transactionId: this.id(), ...(request.subject !== null && { subject: request.subject }), deliveryReport: false });
    try {
      const res = await fetch(request.mmsc, { method: 'POST', headers: { 'content-type': MMS_CONTENT_TYPE }, body: encodeMms(pdu) });
      const body = new Uint8Array(await res.arrayBuffer());
      if (!res.ok) return { ok: false, httpStatus: res.status };
      const conf = decodeMms(body);
      return { ok: conf.type === 'm-send-conf' && conf.responseStatus === OK, httpStatus: res.status };
    } catch {
      return { ok: false, httpStatus: 0 };
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.base).pathname;
    const msg = /^\/mms\/msg\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && msg) {
      const stored = this.messages.get(msg[1] as string);
      if (!stored) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': MMS_CONTENT_TYPE, 'content-length': stored.retrieveConf.length });
      return void res.end(stored.retrieveConf);
    }
    const line = /^\/mms\/([^/]+)$/.exec(path);
    if (req.method !== 'POST' || !line) return void res.writeHead(404).end();
    const lineId = decodeURIComponent(line[1] as string);
    const modem = this.o.network.lines().find((m) => m.lineId === lineId);
    if (!modem) return void res.writeHead(403).end();
    const body = await readAll(req, this.o.maxMessageBytes * 2 + 65_536);
    const pdu = decodeMms(body);
    if (pdu.type === 'm-send-req') {
      const tooLarge = body.length > this.o.maxMessageBytes;
      const mmsMessageId = tooLarge ? undefined : this.route(modem.number, lineId, pdu, 'line');
      return this.reply(res, {
        type: 'm-send-conf',
        transactionId: pdu.transactionId ?? '',
        version: '1.2',
        responseStatus: tooLarge ? CONTENT_NOT_ACCEPTED : OK,
        ...(tooLarge && { responseText: `message of ${body.length} bytes is over the ${this.o.maxMessageBytes}-byte limit` }),
        ...(mmsMessageId && { messageId: mmsMessageId }),
      });
    }
    if ((pdu.type === 'm-notifyresp-ind' || pdu.type === 'm-acknowledge-ind') && pdu.transactionId) {
      if (pdu.type === 'm-acknowledge-ind' || pdu.status === 'retrieved') this.retrieved(pdu.transactionId);
      return void res.writeHead(204).end();
    }
    res.writeHead(400).end();
  }

  private reply(res: ServerResponse, pdu: MmsPdu): void {
    const bytes = encodeMms(pdu);
    res.writeHead(200, { 'content-type': MMS_CONTENT_TYPE, 'content-length': bytes.length });
    res.end(bytes);
  }

  /** Delivers a submitted message to each recipient; returns the message id given to the sender. */
  private route(from: string, senderLine: string | null, pdu: MmsPdu, origin: 'line' | 'subscriber'): string {
    const mmsMessageId = this.id();
    const content = readMessage(pdu);
    for (const to of (pdu.to ?? []).map(fromMmsAddress)) {
      const target = this.o.network.lines().find((m) => m.number === to);
      if (!target) {
        this.toSubscriber(from, to, content.subject, content.text, content.media);
        if (origin === 'line' && pdu.deliveryReport && senderLine) this.deliveryReport(senderLine, mmsMessageId, to);
        continue;
      }
      const id = this.id();
      const retrieveConf = encodeMms({
        type: 'm-retrieve-conf',
        transactionId: id,
        version: '1.2',
        messageId: mmsMessageId,
        date: new Date(Math.floor(this.o.network.clock.now() / 1000) * 1000),
        from: toMmsAddress(from),
        to: [toMmsAddress(to)],
        ...(pdu.subject !== undefined && { subject: pdu.subject }),
        ...(pdu.contentType && { contentType: pdu.contentType }),
        parts: pdu.parts ?? [],
      });
      this.messages.set(id, { id, from, to, retrieveConf, senderLine, mmsMessageId, deliveryReport: pdu.deliveryReport === true, retrieved: false });
      this.push(to, {
        type: 'm-notification-ind',
        transactionId: id,
        version: '1.2',
        from: toMmsAddress(from),
        ...(pdu.subject !== undefined && { subject: pdu.subject }),
        messageClass: 'personal',
        messageSize: retrieveConf.length,
        expiry: { relativeSeconds: 7 * 86_400 },
        contentLocation: `${this.base}/mms/msg/${id}`,
      });
    }
    return mmsMessageId;
  }

  private retrieved(id: string): void {
    const stored = this.messages.get(id);
    if (!stored || stored.retrieved) return;
    stored.retrieved = true;
    this.emit('retrieved', id);
    if (stored.senderLine && stored.deliveryReport) this.deliveryReport(stored.senderLine, stored.mmsMessageId, stored.to);
  }

  private deliveryReport(senderLine: string, mmsMessageId: string, to: string): void {
    const modem = this.o.network.lines().find((m) => m.lineId === senderLine);
    if (!modem) return;
    this.push(modem.number, {
      type: 'm-delivery-ind',
      version: '1.2',
      messageId: mmsMessageId,
      to: [toMmsAddress(to)],
      date: new Date(Math.floor(this.o.network.clock.now() / 1000) * 1000),
      status: 'retrieved',
    });
  }

  private push(toNumber: string, pdu: MmsPdu): void {
    this.pushTid = (this.pushTid + 1) & 0xff;
    const data = encodeWapPush({ transactionId: this.pushTid, body: encodeMms(pdu) });
    this.o.network.pushData(this.o.pushOriginator ?? '6245', toNumber, data, { destination: WAP_PUSH_PORT, source: WAP_PUSH_SOURCE_PORT, bits: 16 });
  }

  private toSubscriber(from: string, to: string, subject: string | null, text: string, media: MmsPart[]): void {
    this.o.network.subscriberInbox.addMms({
      from,
      to,
      subject,
      text,
      media: media.map((m) => ({ contentType: m.contentType, name: m.name ?? null, data: m.data })),
      receivedAt: new Date(this.o.network.clock.now()).toISOString(),
    });
    this.emit('inbox', to);
  }

  private id(): string {
    return randomBytes(9).toString('base64url');
  }
}

async function readAll(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new MmsError('MMS_INVALID_FIELD', max, 'request body too large');
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
