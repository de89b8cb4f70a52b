/** SMS PDUs as a modem hands them over (hex, SMSC field first): DELIVER, SUBMIT, STATUS-REPORT. */
import { readFileSync } from 'node:fs';
import { PduError, decodePdu, encodeDeliver, encodeStatusReport, encodeSubmit, tpduLengthOf, type DecodeOptions } from '../../../src/sms/index.ts';
import { tokens } from '../mutate.ts';
import { each, fromHex, type FuzzTarget } from '../target.ts';

const golden = JSON.parse(readFileSync(new URL('../../../test/fixtures/sms/pdu-golden.json', import.meta.url), 'utf8')) as { decode: { hex: string }[] };
const when = new Date('2024-03-01T13:05:09Z');
const OPTIONS: readonly DecodeOptions[] = [{}, { hasSmsc: false }, { direction: 'incoming' }, { direction: 'outgoing' }];

function seeds(): Uint8Array[] {
  const hex = [
    ...golden.decode.map((v) => v.hex),
    ...encodeSubmit({ to: '+15551234567', text: 'z'.repeat(200) }).map((p) => p.hex),
    ...encodeSubmit({ to: '+15551234567', text: 'ğüş'.repeat(30), nationalLanguages: ['turkish'] }).map((p) => p.hex),
    ...encodeSubmit({ to: '12345', text: 'Grüße aus Köln {€}' }).map((p) => p.hex),
    ...encodeDeliver({ originator: 'Alpha', text: '😀 hi'.repeat(20), timestamp: when }),
    ...encodeDeliver({ originator: '+1', data: new Uint8Array(10), ports: { destination: 2948, source: 9200, bits: 16 }, timestamp: when }),
    encodeStatusReport({ messageRef: 1, recipient: '+1555', scts: when, discharge: when, status: 0x40 }),
  ];
  return hex.map(fromHex);
}

export function createTarget(): FuzzTarget {
  const target: FuzzTarget = {
    name: 'sms-pdu',
    corpus: {
      seeds: seeds(),
      // UDH concatenation (8 and 16 bit) and port IEs, type-of-address and DCS values, the GSM escape.
      dictionary: [...tokens('\x05\x00\x03', '\x06\x08\x04', '\x06\x05\x04\x0b\x84\x23\xf0', '\x91', '\xd0', '\x08', '\x04', '\x1b', '\x00\x00')],
      maxBytes: 400,
    },
    run(input) {
      const hex = Buffer.from(input).toString('hex').toUpperCase();
      return each(target, input, [...OPTIONS.map((o) => () => decodePdu(hex, o)), () => tpduLengthOf(hex)]);
    },
    expected: (err, input) => err instanceof PduError && err.status === 400 && err.offset >= 0 && err.offset <= input.length + 1,
  };
  return target;
}
