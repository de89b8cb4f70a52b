import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { AtMmsTransport, composeSendReq, VirtualMmsc } from '../../src/mms/index.ts';
import { createModemPool, createVirtualNetwork, type Dialect, type ModemPool, type VirtualNetwork } from '../../src/modem/index.ts';
import { encodeSubmit } from '../../src/sms/index.ts';
import { until } from '../helpers/wait.ts';
import { noisePng } from './media-server.ts';

const LINE = '+15550000001';
const SUBSCRIBER = '+15557654321';

describe("MMS through the modem's own client (driver and virtual modem on a PTY, virtual MMSC on loopback)", () => {
  let network: VirtualNetwork;
  let pool: ModemPool;
  let mmsc: VirtualMmsc;
  let commands: string[];

  async function setup(dialect: Dialect): Promise<void> {
    const zero = { minMs: 0, maxMs: 0 };
    network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero });
    network.addLine({ lineId: 'a', number: LINE, dialect });
    mmsc = new VirtualMmsc({ network, maxMessageBytes: 614_400 });
    await mmsc.start();
    pool = createModemPool({ lines: [], messagesPerMinute: 6000 }, { logger: silentLogger(), network });
    const ready = new Promise<void>((resolve) => pool.on('state', ({ state }) => state === 'ready' && resolve()));
    await pool.start();
    await ready;
    commands = [];
    network.line('a').on('command', (c) => commands.push(c));
  }
  afterEach(async () => {
    await pool?.stop();
    await mmsc?.stop();
    network?.close();
  });

  const message = (png: Uint8Array) =>
    composeSendReq({ from: LINE, to: [SUBSCRIBER], subject: 'Plans', text: 'see the map ✓', media: [{ contentType: 'image/png', name: 'map.png', data: png }], transactionId: 'T1' });

  it.each<Dialect>(['quectel', 'simcom'])('%s: uploads every byte in data mode and the subscriber gets the message', async (dialect) => {
    await setup(dialect);
    const png = await noisePng(64, 64);
    // The bytes a text-mode channel would mangle are all in there: CR, LF, Ctrl-Z, ESC.
    for (const b of [0x0d, 0x0a, 0x1a, 0x1b]) expect(png.includes(b)).toBe(true);
    const transport = new AtMmsTransport(pool.atPort('a'), { mmsc: mmsc.urlFor('a'), proxy: '10.0.0.10:8080', apn: 'mms', timeoutMs: 10_000 });
    expect(await transport.send(message(png))).toMatchObject({ transactionId: 'T1', responseStatus: 0x80 });
    const [got] = mmsc.inbox(SUBSCRIBER);
    expect(got).toMatchObject({ from: LINE, subject: 'Plans', text: 'see the map ✓' });
    expect(got!.media.map((m) => m.contentType)).toEqual(['image/png']);
    expect(Buffer.from(got!.media[0]!.data).equals(Buffer.from(png))).toBe(true);
    const upload = dialect === 'quectel' ? /^AT\+QFUPL="ap1\.png",\d+,60$/ : /^AT\+CMMSDOWN="PIC",\d+,10000,"ap1\.png"$/;
    expect(commands.some((c) => upload.test(c))).toBe(true);
    expect(commands).toContain(dialect === 'quectel' ? 'AT+QMMSEND=10' : 'AT+CMMSSEND');
    const expected = dialect === 'quectel'
      ? ['AT+QICSGP=1,1,"mms","","",1', `AT+QMMSCFG="mmsc","${mmsc.urlFor('a')}"`, 'AT+QMMSCFG="proxy","10.0.0.10",8080', 'AT+QMMSEDIT=1,1,"+15557654321"', 'AT+QMMSEDIT=4,1,"Plans"']
      : [`AT+CMMSCURL="${mmsc.urlFor('a')}"`, 'AT+CMMSPROTO=1,"10.0.0.10",8080', 'AT+CMMSRECP="+15557654321"', 'AT+CMMSTERM'];
    expect(commands).toEqual(expect.arrayContaining(expected));
    expect(pool.line('a').lastError).toBeNull(); // a clean send leaves no error on the line
  });

  it('says why when the MMSC cannot be reached, clears the edit buffer, and the line still sends SMS', async () => {
    await setup('quectel');
    await mmsc.stop(); // the modem's client gets no answer
    const transport = new AtMmsTransport(pool.atPort('a'), { mmsc: mmsc.urlFor('a'), timeoutMs: 5_000 });
    await expect(transport.send(message(await noisePng(8, 8)))).rejects.toMatchObject({ code: 'MMSC_REFUSED', retryable: true, message: expect.stringContaining('+QMMSEND result 1') });
    expect(commands.slice(-3)).toEqual(['AT+QMMSEDIT=0', 'AT+QFDEL="ap1.png"', 'AT+QFDEL="ap2.txt"']);
    const [pdu] = encodeSubmit({ to: SUBSCRIBER, text: 'still here' });
    await expect(pool.send('a', pdu!)).resolves.toMatchObject({ mr: expect.any(Number) });
    await until(() => network.inbox(SUBSCRIBER).some((m) => m.body === 'still here'), 5_000, 'the SMS after the failed MMS');
  });

  it('uploads over a file an interrupted send left in the module, and sends', async () => {
    await setup('quectel');
    const png = await noisePng(16, 16);
    const transport = new AtMmsTransport(pool.atPort('a'), { mmsc: mmsc.urlFor('a'), timeoutMs: 5_000 });
    // The file a crash between upload and clean-up would leave behind.
    await pool.atPort('a').command('AT+QFUPL="ap1.png",3,60', { upload: new Uint8Array([1, 2, 3]) });
    await transport.send(message(png));
    expect(Buffer.from(mmsc.inbox(SUBSCRIBER)[0]!.media[0]!.data).equals(Buffer.from(png))).toBe(true);
    expect(commands.filter((c) => c.startsWith('AT+QFUPL="ap1.png"')).length).toBe(3);
    expect(commands).toContain('AT+QFDEL="ap1.png"');
  });

  it('refuses a line whose modem has no MMS client, naming the fix', async () => {
    await setup('huawei');
    const transport = new AtMmsTransport(pool.atPort('a'), { mmsc: mmsc.urlFor('a'), timeoutMs: 5_000 });
    await expect(transport.send(message(await noisePng(8, 8)))).rejects.toMatchObject({ code: 'MMS_NOT_CONFIGURED', message: expect.stringContaining('use mms.transport "http"') });
    expect(commands.filter((c) => /MMS|QFUPL/.test(c))).toEqual([]);
  });
});
