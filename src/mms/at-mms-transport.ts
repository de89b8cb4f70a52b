/**
 * MMS sent by the modem's own MMS client over AT (Quectel AT+QMMS*, SIMCom AT+CMMS*), for
 * setups where the host has no IP route to the MMSC. The modem composes the m-send-req
 * itself from the recipients, title and files given; receiving still needs the HTTP transport.
 */
import type { LineAtPort } from '../modem/index.ts';
import { readMessage } from './compose.ts';
import { extensionOf } from './media/content-types.ts';
import type { MmsTransport } from './mms-transport.ts';
import { MmscError } from './mmsc-error.ts';
import type { MmsPdu, SendConf } from './pdu/index.ts';

export interface AtMmsOptions {
  /** The line's MMSC URL, as the modem's client is to post to it. */
  mmsc: string;
  /** "host:port" of the carrier's MMS proxy. */
  proxy?: string | undefined;
  /** The MMS APN, configured on the modem's PDP context (Quectel). */
  apn?: string | undefined;
  contextId?: number;
  /** How long the modem's client may take over one send. */
  timeoutMs: number;
}

interface ModemFile {
  name: string;
  type: string;
  data: Uint8Array;
}

const quote = (s: string) => `"${s.replace(/"/g, '')}"`;
/** Module file systems take short plain names; the extension tells the modem the type. */
const fileName = (i: number, type: string) => `ap${i + 1}.${extensionOf(type)}`;

export class AtMmsTransport implements MmsTransport {
  readonly kind = 'at' as const;
  /** The modem has one MMS edit buffer: sends on a line go one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly at: LineAtPort,
    private readonly o: AtMmsOptions,
  ) {}

  send(pdu: MmsPdu): Promise<SendConf> {
    const run = this.queue.then(() => this.sendNow(pdu));
    this.queue = run.catch(() => undefined);
    return run;
  }

  retrieve(): Promise<MmsPdu> {
    return Promise.reject(new MmscError('MMS_NOT_CONFIGURED', "the AT MMS transport only sends; receiving MMS needs the HTTP transport over the modem's data bearer", false));
  }

  notifyResponse(): Promise<void> {
    return Promise.resolve();
  }

  private async sendNow(pdu: MmsPdu): Promise<SendConf> {
    const content = readMessage(pdu);
    const files: ModemFile[] = content.media.map((m, i) => ({ name: fileName(i, m.contentType), type: m.contentType, data: m.data }));
    if (content.text !== '') files.push({ name: fileName(files.length, 'text/plain'), type: 'text/plain', data: new TextEncoder().encode(content.text) });
    const dialect = this.at.dialect();
    try {
      if (dialect === 'quectel') await this.quectel(content.to, content.subject, files);
      else if (dialect === 'simcom') await this.simcom(content.to, content.subject, files);
      else throw new MmscError('MMS_NOT_CONFIGURED', `the modem on this line (${dialect ?? 'not initialised'}) has no MMS client over AT; use mms.transport "http"`, dialect === undefined);
    } catch (err) {
      if (err instanceof MmscError) throw err;
      throw new MmscError('MMSC_REFUSED', `the modem's MMS client failed: ${err instanceof Error ? err.message : String(err)}`, true, err);
    }
    return { transactionId: pdu.transactionId ?? '', responseStatus: 0x80 };
  }

  private proxy(): [string, number] | undefined {
    if (!this.o.proxy) return undefined;
    const [host, port] = this.o.proxy.split(':');
    return [host as string, Number(port || 80)];
  }

  /** Runs a command whose outcome arrives later as a URC, listening before the command goes out. */
  private async awaitUrc(command: string, prefix: string): Promise<string> {
    const urc = this.at.waitFor(prefix, this.o.timeoutMs + 5000);
    urc.catch(() => undefined); // observed below; a failed command must not leave it unhandled
    const lines = await this.at.command(command, { timeoutMs: this.o.timeoutMs });
    return lines.find((l) => l.toUpperCase().startsWith(prefix)) ?? (await urc);
  }

  private async quectel(to: string[], subject: string | null, files: ModemFile[]): Promise<void> {
    const cid = this.o.contextId ?? 1;
    const at = (c: string) => this.at.command(c);
    if (this.o.apn) await at(`AT+QICSGP=${cid},1,${quote(this.o.apn)},"","",1`);
    await at(`AT+QMMSCFG="contextid",${cid}`);
    await at(`AT+QMMSCFG="mmsc",${quote(this.o.mmsc)}`);
    const proxy = this.proxy();
    if (proxy) await at(`AT+QMMSCFG="proxy",${quote(proxy[0])},${proxy[1]}`);
    await at('AT+QMMSCFG="character","UTF8"');
    await at('AT+QMMSEDIT=0');
    try {
      for (const addr of to) await at(`AT+QMMSEDIT=1,1,${quote(addr)}`);
      if (subject) await at(`AT+QMMSEDIT=4,1,${quote(subject)}`);
      for (const f of files) {
        const upload = () => this.at.command(`AT+QFUPL=${quote(f.name)},${f.data.length},60`, { upload: f.data, timeoutMs: 60_000 });
        // A file left by an interrupted send is in the way: delete it and upload again.
        await upload().catch(async () => {
          await at(`AT+QFDEL=${quote(f.name)}`);
          await upload();
        });
        await at(`AT+QMMSEDIT=5,1,${quote(`UFS:${f.name}`)}`);
      }
      const urc = await this.awaitUrc(`AT+QMMSEND=${Math.ceil(this.o.timeoutMs / 1000)}`, '+QMMSEND:');
      const [result, http] = urc.slice('+QMMSEND:'.length).split(',').map((s) => Number(s.trim()));
      if (result !== 0) throw new MmscError('MMSC_REFUSED', `the modem's MMS send failed (+QMMSEND result ${result}, HTTP ${http ?? '?'})`, true);
    } finally {
      await at('AT+QMMSEDIT=0').catch(() => undefined);
      for (const f of files) await at(`AT+QFDEL=${quote(f.name)}`).catch(() => undefined);
    }
  }

  private async simcom(to: string[], subject: string | null, files: ModemFile[]): Promise<void> {
    const at = (c: string) => this.at.command(c);
    await at('AT+CMMSINIT');
    try {
      await at(`AT+CMMSCURL=${quote(this.o.mmsc)}`);
      await at(`AT+CMMSCID=${this.o.contextId ?? 1}`);
      const proxy = this.proxy();
      if (proxy) await at(`AT+CMMSPROTO=1,${quote(proxy[0])},${proxy[1]}`);
      await at('AT+CMMSEDIT=1');
      const title = subject ? new TextEncoder().encode(subject) : undefined;
      if (title) await this.at.command(`AT+CMMSDOWN="TITLE",${title.length},${this.o.timeoutMs}`, { upload: title, timeoutMs: 60_000 });
      for (const f of files) {
        const kind = f.type.startsWith('image/') ? 'PIC' : f.type === 'text/plain' ? 'TEXT' : 'FILE';
        await this.at.command(`AT+CMMSDOWN="${kind}",${f.data.length},${this.o.timeoutMs},${quote(f.name)}`, { upload: f.data, timeoutMs: 60_000 });
      }
      for (const addr of to) await at(`AT+CMMSRECP=${quote(addr)}`);
      const line = await this.awaitUrc('AT+CMMSSEND', '+CMMSSEND:');
      const result = Number(line.slice('+CMMSSEND:'.length).split(',')[0]);
      if (result !== 0) throw new MmscError('MMSC_REFUSED', `the modem's MMS send failed (+CMMSSEND ${result})`, true);
    } finally {
      await at('AT+CMMSEDIT=0').catch(() => undefined);
      await at('AT+CMMSTERM').catch(() => undefined);
    }
  }
}
