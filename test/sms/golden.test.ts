import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PduError, decodePdu, encodeSubmit, type DecodedPdu, type Direction, type SubmitOptions } from '../../src/sms/index.ts';
import { encodeAddress, encodeSmsc } from '../../src/sms/address.ts';
import { bytesToHex } from '../../src/sms/bytes.ts';
import { encodeGsm7 } from '../../src/sms/gsm7.ts';
import { packSeptets } from '../../src/sms/septets.ts';

interface Golden {
  decode: { name: string; hex: string; direction?: Direction; expect: Record<string, unknown> }[];
  malformed: { name: string; hex: string; code: string }[];
  encodeSubmit: { name: string; opts: SubmitOptions; hex: string; tpduLength: number }[];
  addresses: { value: string; smsc: boolean; hex: string }[];
  septets: { text: string; hex: string }[];
}

const golden = JSON.parse(readFileSync(new URL('../fixtures/sms/pdu-golden.json', import.meta.url), 'utf8')) as Golden;

/** The decoded value in the flat vocabulary the fixture uses. */
function flatten(d: DecodedPdu): Record<string, unknown> {
  const common = { type: d.type, smsc: d.smsc?.number ?? null };
  if (d.type === 'status-report') {
    return {
      ...common,
      recipient: d.recipient.number,
      timestamp: d.timestamp.iso,
      messageRef: d.messageRef,
      status: { raw: d.status.raw, outcome: d.status.outcome },
    };
  }
  const payload = {
    encoding: d.encoding,
    text: d.text,
    data: d.data === null ? undefined : bytesToHex(d.data),
    concat: d.concat,
    pid: d.pid,
    messageClass: d.dcs.messageClass,
  };
  if (d.type === 'submit') return { ...common, ...payload, recipient: d.recipient.number };
  return {
    ...common,
    ...payload,
    originator: d.originator.number,
    originatorKind: d.originator.kind,
    timestamp: d.timestamp.iso,
    moreMessagesToSend: d.moreMessagesToSend,
  };
}

describe('golden PDU vectors', () => {
  for (const v of golden.decode) {
    it(`decodes ${v.name}`, () => {
      const flat = flatten(decodePdu(v.hex, v.direction ? { direction: v.direction } : {}));
      for (const [key, value] of Object.entries(v.expect)) expect(flat[key], key).toEqual(value);
    });
  }

  for (const v of golden.malformed) {
    it(`rejects ${v.name} with ${v.code}`, () => {
      expect(() => decodePdu(v.hex)).toThrow(PduError);
      try {
        decodePdu(v.hex);
      } catch (err) {
        expect((err as PduError).code).toBe(v.code);
      }
    });
  }

  for (const v of golden.encodeSubmit) {
    it(`encodes SUBMIT: ${v.name}`, () => {
      const [pdu, ...rest] = encodeSubmit(v.opts);
      expect(rest).toEqual([]);
      expect(pdu?.hex).toBe(v.hex);
      expect(pdu?.tpduLength).toBe(v.tpduLength);
    });
  }

  for (const v of golden.addresses) {
    it(`encodes ${v.smsc ? 'SMSC' : 'address'} ${v.value}`, () => {
      const bytes = v.smsc ? encodeSmsc(v.value) : encodeAddress(v.value, 'to');
      expect(bytesToHex(bytes)).toBe(v.hex);
    });
  }

  for (const v of golden.septets) {
    it(`packs "${v.text}"`, () => {
      expect(bytesToHex(packSeptets(encodeGsm7(v.text)))).toBe(v.hex);
    });
  }
});
