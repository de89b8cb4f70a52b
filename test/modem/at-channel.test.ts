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

  it('gives up on a missing prompt, sends ESC, resynchronises and stays usable', async () => {
    const { t, clock, channel } = setup();
    const p = channel.command('AT+CMGS=12', { payload: '00', promptTimeoutMs: 500 }).catch((e: unknown) => e);
    clock.advance(500);
    expect(await p).toMatchObject({ kind: 'no-prompt' });
    expect(t.written).toContain('\x1b');
    const next = channel.command('AT+CSQ');
    t.push('\r\nOK\r\n'); // the cancelled send's final, after the ESC
    expect(t.written.at(-1)).toBe('AT+CMEE?\r');
    t.push('\r\n+CMEE: 1\r\n\r\nOK\r\n');
    expect(t.written.at(-1)).toBe('AT+CSQ\r');
    t.push('\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
    expect(await next).toEqual({ lines: ['+CSQ: 20,99'], final: 'OK' });
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

  describe('staying in step', () => {
    it('never takes a timed-out command\'s late answer for the next command\'s', async () => {
      const { t, clock, channel } = setup();
      const csq = channel.command('AT+CSQ').catch((e: unknown) => e);
      const creg = channel.command('AT+CREG?');
      clock.advance(1000);
      expect(await csq).toMatchObject({ kind: 'timeout' });
      expect(t.written).toEqual(['AT+CSQ\r']); // the next command waits for the late final
      t.push('\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
      expect(t.written).toEqual(['AT+CSQ\r', 'AT+CMEE?\r']);
      t.push('\r\n+CMEE: 1\r\n\r\nOK\r\n');
      expect(t.written.at(-1)).toBe('AT+CREG?\r');
      t.push('\r\n+CREG: 0,1\r\n\r\nOK\r\n');
      expect((await creg).lines).toEqual(['+CREG: 0,1']);
      expect(channel.outOfStep).toBe(false);
    });

    it('discards what comes before the handshake\'s own answer when the late final comes after it was written', async () => {
      const { t, clock, channel } = setup();
      const csq = channel.command('AT+CSQ').catch((e: unknown) => e);
      const creg = channel.command('AT+CREG?');
      clock.advance(1000); // CSQ cut off
      clock.advance(1000); // its final does not come within the wait: handshake anyway
      expect(t.written).toEqual(['AT+CSQ\r', 'AT+CMEE?\r']);
      expect(await csq).toMatchObject({ kind: 'timeout' });
      t.push('\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n');
      t.push('\r\n+CREG: 0,5\r\n\r\nOK\r\n');
      expect((await creg).lines).toEqual(['+CREG: 0,5']);
    });

    it('discards an answer given twice in one burst instead of giving it to the queued command', async () => {
      const { t, channel } = setup();
      const csq = channel.command('AT+CSQ');
      const cmgd = channel.command('AT+CMGD=3').catch((e: unknown) => e);
      t.push('\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
      expect((await csq).lines).toEqual(['+CSQ: 20,99']);
      expect(t.written).toEqual(['AT+CSQ\r', 'AT+CMEE?\r']);
      t.push('\r\n+CMEE: 1\r\n\r\nOK\r\n');
      expect(t.written.at(-1)).toBe('AT+CMGD=3\r');
      t.push('\r\n+CMS ERROR: 321\r\n');
      expect(await cmgd).toMatchObject({ kind: 'cms', errorCode: 321 });
    });

    it('takes no message reference from before the "> " prompt', async () => {
      const { t, channel } = setup();
      const p = channel.command('AT+CMGS=12', { payload: '0011000B915155214365F70000AA01C8' });
      t.push('\r\n+CMGS: 4\r\n\r\nOK\r\n'); // an earlier send's answer, repeated
      t.push('\r\n> ');
      t.push('\r\n+CMGS: 5\r\n\r\nOK\r\n');
      expect((await p).lines).toEqual(['+CMGS: 5']);
      expect(channel.outOfStep).toBe(true);
    });

    it('reads a bare OK to AT+CMGR as an empty slot, and resynchronises before the next command', async () => {
      const { t, channel } = setup();
      const cmgr = channel.command('AT+CMGR=2');
      const next = channel.command('AT+CMGR=3');
      t.push('\r\nOK\r\n');
      expect(await cmgr).toEqual({ lines: [], final: 'OK' });
      expect(t.written.at(-1)).toBe('AT+CMEE?\r'); // that OK may have been a stray
      t.push('\r\n+CMGR: 0,,5\r\n0000000000\r\n\r\nOK\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n');
      expect(t.written.at(-1)).toBe('AT+CMGR=3\r');
      t.push('\r\n+CMGR: 1,,6\r\n070000000000\r\n\r\nOK\r\n');
      expect((await next).lines).toEqual(['+CMGR: 1,,6', '070000000000']);
    });

    it('keeps a query waiting past another command\'s answer lines and bare OK', async () => {
      const { t, channel } = setup();
      const p = channel.command('AT+CREG?');
      t.push('\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
      t.push('\r\n+CREG: 0,1\r\n\r\nOK\r\n');
      expect((await p).lines).toEqual(['+CREG: 0,1']);
    });

    it('never reuses a handshake that was itself cut off', async () => {
      const { t, clock, channel } = setup();
      const csq = channel.command('AT+CSQ').catch((e: unknown) => e);
      const creg = channel.command('AT+CREG?').catch((e: unknown) => e);
      const cops = channel.command('AT+COPS?');
      clock.advance(1000); // CSQ cut off
      clock.advance(1000); // no late final
      clock.advance(1000); // AT+CMEE? cut off too: the command it was for fails with it
      expect(await csq).toMatchObject({ kind: 'timeout' });
      expect(await creg).toMatchObject({ kind: 'timeout', command: 'AT+CREG?' });
      t.push('\r\nOK\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n'); // both late finals
      expect(t.written).toEqual(['AT+CSQ\r', 'AT+CMEE?\r', 'AT+CMGF?\r']);
      t.push('\r\n+CMGF: 0\r\n\r\nOK\r\n');
      t.push('\r\n+COPS: 0,0,"Op",7\r\n\r\nOK\r\n');
      expect((await cops).lines).toEqual(['+COPS: 0,0,"Op",7']);
    });

    it('fails each waiting command whose handshake goes unanswered', async () => {
      const { t, clock, channel } = setup();
      const csq = channel.command('AT+CSQ').catch((e: unknown) => e);
      const creg = channel.command('AT+CREG?').catch((e: unknown) => e);
      const cops = channel.command('AT+COPS?').catch((e: unknown) => e);
      clock.advance(1000);
      for (let i = 0; i < 2; i++) clock.advance(2000); // each wait and each handshake runs out
      expect(await csq).toMatchObject({ kind: 'timeout' });
      expect(await creg).toMatchObject({ kind: 'timeout', command: 'AT+CREG?' });
      expect(await cops).toMatchObject({ kind: 'timeout', command: 'AT+COPS?' });
      expect(t.written).toEqual(['AT+CSQ\r', 'AT+CMEE?\r', 'AT+CMGF?\r']);
      expect(channel.outOfStep).toBe(true);
    });
  });
});
