import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.ts';

const DELIVER = '07919730071111F1000B919746121611F10000811170021222230DC8329BFD6681EE6F399B1C02';

describe('agentphone pdu', () => {
  it('decodes a DELIVER to JSON', async () => {
    const r = await cli(['pdu', 'decode', DELIVER, '--json'], {});
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      type: 'deliver',
      smsc: '+79037011111',
      originator: '+79642161111',
      timestamp: '2018-11-07T20:21:22+08:00',
      encoding: 'gsm7',
      text: 'Hello, world!',
      udh: [],
      concat: null,
    });
  });

  it('decodes a TPDU without an SMSC field', async () => {
    const r = await cli(['pdu', 'decode', DELIVER.slice(16), '--no-smsc', '--json'], {});
    expect(JSON.parse(r.stdout)).toMatchObject({ smsc: null, text: 'Hello, world!' });
  });

  it('prints the status of a status report', async () => {
    const r = await cli(['pdu', 'decode', '07914356060013F1065A098136397339F7219011700463802190117004638030', '--json'], {});
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'status-report', recipient: '639337937', status: { raw: 0x30, outcome: 'pending' } });
  });

  it('reports a malformed PDU as {error, message} with exit 1', async () => {
    const r = await cli(['pdu', 'decode', '0791973007', '--json'], {});
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'Malformed PDU', code: 'PDU_TRUNCATED' });
    expect(body.message).toMatch(/Malformed PDU at byte/);
  });

  it('prints human-readable fields without --json', async () => {
    const r = await cli(['pdu', 'decode', DELIVER], {});
    expect(r.stdout).toMatch(/text:\s+Hello, world!/);
  });

  it('aligns every value in one column, past the longest name, and keeps a multi-line text in it', async () => {
    const enc = await cli(['pdu', 'encode', '--to', '+15551234567', '--text', 'line one\nline two', '--json'], {});
    const hex = (JSON.parse(enc.stdout) as { pdus: { hex: string }[] }).pdus[0]?.hex ?? '';
    const r = await cli(['pdu', 'decode', hex], {});
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // statusReportRequested is the longest name (21): values start two columns after it.
    const column = 'statusReportRequested: '.length;
    expect(lines).toContain(`${'statusReportRequested:'.padEnd(column)}true`);
    for (const line of lines) expect(line.slice(0, column)).toMatch(/^(\S+: *| +)$/);
    for (const line of lines) expect(line[column]).toMatch(/\S/);
    const text = lines.findIndex((l) => l.startsWith('text:'));
    expect(lines.slice(text, text + 2)).toEqual([`${'text:'.padEnd(column)}line one`, `${' '.repeat(column)}line two`]);
  });

  it('encodes SUBMIT parts with their TPDU lengths', async () => {
    const r = await cli(['pdu', 'encode', '--to', '+15551234567', '--text', 'x'.repeat(200), '--ref16', '--json'], {});
    expect(r.code).toBe(0);
    const { pdus } = JSON.parse(r.stdout) as { pdus: { hex: string; tpduLength: number }[] };
    expect(pdus).toHaveLength(2);
    for (const p of pdus) expect(p.tpduLength).toBe(p.hex.length / 2 - 1);
    const back = await cli(['pdu', 'decode', pdus[0]?.hex ?? '', '--json'], {});
    expect(JSON.parse(back.stdout)).toMatchObject({ type: 'submit', recipient: '+15551234567', concat: { refBits: 16, part: 1, total: 2 } });
  });

  it('prints AT+CMGS lines without --json', async () => {
    const r = await cli(['pdu', 'encode', '--to', '+1555', '--text', 'hi'], {});
    expect(r.stdout).toMatch(/^AT\+CMGS=\d+\n[0-9A-F]+\n$/);
  });

  it('exits 2 on wrong arguments', async () => {
    expect((await cli(['pdu', 'encode', '--to', '+1'], {})).code).toBe(2);
    expect((await cli(['pdu', 'frobnicate'], {})).code).toBe(2);
    expect((await cli(['pdu', 'decode'], {})).code).toBe(2);
  });
});
