import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import { AtChannel, ModemError, type Urc } from '../../src/modem/index.ts';
import { FakeTransport } from '../fakes/fake-transport.ts';
import { ManualClock } from '../fakes/manual-clock.ts';

function setup(): { t: FakeTransport; clock: ManualClock; channel: AtChannel; urcs: Urc[] } {
  const t = new FakeTransport();
  const clock = new ManualClock();
  const channel = new AtChannel(t, { clock, logger: silentLogger(), defaultTimeoutMs: 1000 });
  const urcs: Urc[] = [];
  channel.on('urc', (u) => urcs.push(u));
  return { t, clock, channel, urcs };
}

describe('AtChannel', () => {
  it('keeps one command in flight and answers them in order', async () => {
    const { t, channel } = setup();
    const a = channel.command('AT+CSQ');
    const b = channel.command('AT+CREG?');
    expect(t.written).toEqual(['AT+CSQ\r']);
    t.push('\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
    expect(await a).toEqual({ lines: ['+CSQ: 20,99'], final: 'OK' });
    expect(t.written).toEqual(['AT+CSQ\r', 'AT+CREG?\r']);
    t.push('\r\n+CREG: 0,1\r\nOK\r\n');
    expect((await b).lines).toEqual(['+CREG: 0,1']);
  });

  it('tolerates the echo of the command', async () => {
    const { t, channel } = setup();
    const p = channel.command('AT+CGMI');
    t.push('AT+CGMI\r\r\nQuectel\r\n\r\nOK\r\n');
    expect((await p).lines).toEqual(['Quectel']);
  });

  it('turns +CMS ERROR into a typed ModemError', async () => {
    const { t, channel } = setup();
    const p = channel.command('AT+CMGR=1');
    t.push('\r\n+CMS ERROR: 321\r\n');
    await expect(p).rejects.toMatchObject({ kind: 'cms', errorCode: 321, meaning: 'invalid memory index' });
  });

  it('dispatches URCs interleaved with a response and does not let them extend the deadline', async () => {
    const { t, clock, channel, urcs } = setup();
    const p = channel.command('AT+COPS?', { timeoutMs: 1000 });
    const rejected = p.catch((e: unknown) => e);
    clock.advance(600);
    t.push('\r\n+CMTI: "SM",3\r\n');
    t.push('\r\nRING\r\n');
    clock.advance(399);
    t.push('\r\n^RSSI: 17\r\n');
    expect(urcs).toEqual([{ type: 'new-message', storage: 'SM', index: 3 }, { type: 'ring' }, { type: 'signal', rssi: 17 }]);
    clock.advance(1);
    const error = await rejected;
    expect(error).toBeInstanceOf(ModemError);
    expect((error as ModemError).kind).toBe('timeout');
  });

  it('assembles two-line +CMT and +CDS URCs', () => {
    const { t, urcs } = setup();
    t.push('\r\n+CMT: ,24\r\n0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B\r\n');
    t.push('\r\n+CDS: 25\r\n07914477FFFF0000\r\n');
    expect(urcs[0]).toMatchObject({ type: 'message', length: 24 });
    expect(urcs[0]).toHaveProperty('pdu', '0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B');
    expect(urcs[1]).toMatchObject({ type: 'status-report', pdu: '07914477FFFF0000' });
  });

  it('spots the "> " prompt on the raw stream, sends the PDU with Ctrl-Z and reads +CMGS', async () => {
    const { t, channel } = setup();
    const p = channel.command('AT+CMGS=12', { payload: '0011000B915155214365F70000AA01C8' });
    t.push('\r\n> ');
    expect(t.written[1]).toBe('0011000B915155214365F70000AA01C8\x1a');
    t.push('\r\n+CMGS: 7\r\n\r\nOK\r\n');
    expect((await p).lines).toEqual(['+CMGS: 7']);
  });

  it('gives up on a missing prompt, sends ESC and stays usable', async () => {
    const { t, clock, channel } = setup();
    const p = channel.command('AT+CMGS=12', { payload: '00', promptTimeoutMs: 500 }).catch((e: unknown) => e);
    clock.advance(500);
    expect(await p).toMatchObject({ kind: 'no-prompt' });
    expect(t.written).toContain('\x1b');
    const next = channel.command('AT');
    t.push('\r\nOK\r\n');
    expect(await next).toEqual({ lines: [], final: 'OK' });
  });

  it('ignores a stray OK when the command requires its response line', async () => {
    const { t, channel } = setup();
    const p = channel.command('AT+CMEE?', { requireResponse: true });
    t.push('\r\nOK\r\n');
    t.push('\r\n+CMEE: 1\r\n\r\nOK\r\n');
    expect((await p).lines).toEqual(['+CMEE: 1']);
  });

  it('reports garbage between commands without failing', () => {
    const { t, channel } = setup();
    const garbage: string[] = [];
    channel.on('garbage', (g) => garbage.push(g));
    t.push('\r\n\x00\xff#$%noise\r\n');
    expect(garbage).toHaveLength(1);
  });

  it('rejects the command in flight and the queue when the port closes', async () => {
    const { t, channel } = setup();
    const a = channel.command('AT').catch((e: unknown) => e);
    const b = channel.command('AT+CSQ').catch((e: unknown) => e);
    t.unplug();
    expect(await a).toMatchObject({ kind: 'closed' });
    expect(await b).toMatchObject({ kind: 'closed' });
    await expect(channel.command('AT')).rejects.toMatchObject({ kind: 'closed' });
  });
});
