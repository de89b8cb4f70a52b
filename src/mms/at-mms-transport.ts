/**
 * MMS sent by the modem's own MMS client over AT (Quectel AT+QMMS*, SIMCom AT+CMMS*), for
 * setups where the host has no IP route to the MMSC. The modem composes the m-send-req
 * itself from the recipients and files given; receiving still needs the HTTP transport.
 */
import { readMessage } from './compose.ts';
import type { MmsTransport } from './mms-transport.ts';
import { MmscError } from './mmsc-error.ts';
import type { MmsPdu, SendConf } from './pdu/index.ts';

/** What the transport needs from the line's AT channel. */
export interface AtCommandPort {
  /** Runs one command; resolves with its information lines, rejects on ERROR / +CME ERROR. */
  command(cmd: string, timeoutMs?: number): Promise<string[]>;
  /** Runs a command that answers CONNECT, then writes `data` raw; resolves with the lines after. */
  upload(cmd: string, data: Uint8Array, timeoutMs?: number): Promise<string[]>;
  /** Resolves with the next unsolicited line starting with `prefix`. */
  waitFor(prefix: string, timeoutMs: number): Promise<string>;
}

export interface AtMmsOptions {
  dialect: 'quectel' | 'simcom';
  mmsc: string;
  /** "host:port" of the carrier's MMS proxy. */
  proxy?: string | undefined;
  apn?: string | undefined;
  contextId?: number;
  timeoutMs: number;
}

const quote = (s: string) => `"${s.replace(/"/g, '')}"`;

export class AtMmsTransport implements MmsTransport {
  readonly kind = 'at' as const;

  constructor(
    private readonly at: AtCommandPort,
    private readonly o: AtMmsOptions,
  ) {}

  async send(pdu: MmsPdu): Promise<SendConf> {
    const content = readMessage(pdu);
    const files = [...content.media.map((m, i) => ({ name: m.name ?? `part${i + 1}`, type: m.contentType, data: m.data }))];
    if (content.text !== '') files.push({ name: 'text.txt', type: 'text/plain', data: new TextEncoder().encode(content.text) });
    try {
      if (this.o.dialect === 'quectel') await this.quectel(content.to, files);
      else await this.simcom(content.to, files);
    } catch (err) {
      if (err instanceof MmscError) throw err;
      throw new MmscError('MMSC_REFUSED', `the modem's MMS client failed: ${err instanceof Error ? err.message : String(err)}`, true, err);
    }
    return { transactionId: pdu.transactionId ?? '', responseStatus: 0x80 };
  }

  retrieve(): Promise<MmsPdu> {
    return Promise.reject(new MmscError('MMS_NOT_CONFIGURED', "the AT MMS transport only sends; receiving MMS needs the HTTP transport over the modem's data bearer", false));
  }

  notifyResponse(): Promise<void> {
    return Promise.resolve();
  }

  private proxy(): [string, number] | undefined {
    if (!this.o.proxy) return undefined;
    const [host, port] = this.o.proxy.split(':');
    return [host as string, Number(port || 80)];
  }

  private async quectel(to: string[], files: { name: string; type: string; data: Uint8Array }[]): Promise<void> {
    const cid = this.o.contextId ?? 1;
    if (this.o.apn) await this.at.command(`AT+QICSGP=${cid},1,${quote(this.o.apn)},"","",1`);
    await this.at.command(`AT+QMMSCFG="contextid",${cid}`);
    await this.at.command(`AT+QMMSCFG="mmsc",${quote(this.o.mmsc)}`);
    const proxy = this.proxy();
    if (proxy) await this.at.command(`AT+QMMSCFG="proxy",${quote(proxy[0])},${proxy[1]}`);
    await this.at.command('AT+QMMSCFG="character","UTF8"');
    await this.at.command('AT+QMMSEDIT=0');
    for (const addr of to) await this.at.command(`AT+QMMSEDIT=1,1,${quote(addr)}`);
    for (const f of files) {
      await this.at.command(`AT+QFDEL=${quote(f.name)}`).catch(() => undefined);
      await this.at.upload(`AT+QFUPL=${quote(f.name)},${f.data.length},60`, f.data);
      await this.at.command(`AT+QMMSEDIT=5,1,${quote(`UFS:${f.name}`)}`);
    }
    const seconds = Math.ceil(this.o.timeoutMs / 1000);
    await this.at.command(`AT+QMMSEND=${seconds}`);
    const urc = await this.at.waitFor('+QMMSEND:', this.o.timeoutMs + 5000);
    const [result, http] = urc.replace('+QMMSEND:', '').split(',').map((s) => Number(s.trim()));
    await this.at.command('AT+QMMSEDIT=0').catch(() => undefined);
    if (result !== 0) throw new MmscError('MMSC_REFUSED', `the modem's MMS send failed (+QMMSEND result ${result}, HTTP ${http ?? '?'})`, true);
  }

  private async simcom(to: string[], files: { name: string; type: string; data: Uint8Array }[]): Promise<void> {
    await this.at.command('AT+CMMSINIT');
    try {
      await this.at.command(`AT+CMMSCURL=${quote(this.o.mmsc)}`);
      await this.at.command(`AT+CMMSCID=${this.o.contextId ?? 1}`);
      const proxy = this.proxy();
      if (proxy) await this.at.command(`AT+CMMSPROTO=1,${quote(proxy[0])},${proxy[1]}`);
      await this.at.command('AT+CMMSEDIT=1');
      for (const f of files) {
        const kind = f.type.startsWith('image/') ? 'PIC' : f.type === 'text/plain' ? 'TEXT' : 'FILE';
        await this.at.upload(`AT+CMMSDOWN="${kind}",${f.data.length},${this.o.timeoutMs},${quote(f.name)}`, f.data);
      }
      for (const addr of to) await this.at.command(`AT+CMMSRECP=${quote(addr)}`);
      const lines = await this.at.command('AT+CMMSSEND', this.o.timeoutMs);
      const line = lines.find((l) => l.startsWith('+CMMSSEND:')) ?? (await this.at.waitFor('+CMMSSEND:', this.o.timeoutMs));
      const result = Number(line.replace('+CMMSSEND:', '').split(',')[0]);
      if (result !== 0) throw new MmscError('MMSC_REFUSED', `the modem's MMS send failed (+CMMSSEND ${result})`, true);
      await this.at.command('AT+CMMSEDIT=0').catch(() => undefined);
    } finally {
      await this.at.command('AT+CMMSTERM').catch(() => undefined);
    }
  }
}
