/** MMS encapsulation PDUs (OMA-MMS-ENC): what an MMSC answers and what it delivers. */
import { readFileSync } from 'node:fs';
import {
  MmsError,
  decodeMms,
  encodeAcknowledgeInd,
  encodeMms,
  encodeNotifyRespInd,
  toDeliveryInd,
  toNotification,
  type MmsPdu,
} from '../../../src/mms/pdu/index.ts';
import { tokens } from '../mutate.ts';
import { each, fromHex, utf8, type FuzzTarget } from '../target.ts';

const golden = JSON.parse(readFileSync(new URL('../../../test/fixtures/mms/golden.json', import.meta.url), 'utf8')) as {
  mms: { hex: string }[];
  push: { hex: string }[];
};

/** Encodings from the project's own encoder, one per PDU type the gateway sends or reads. */
export function encodedMms(): Uint8Array[] {
  const sendReq: MmsPdu = {
    type: 'm-send-req',
    transactionId: 't',
    version: '1.2',
    from: null,
    to: ['+15551234567/TYPE=PLMN'],
    subject: 'ünïcode',
    contentType: { mediaType: 'application/vnd.wap.multipart.related', params: { start: '<smil>', type: 'application/smil' } },
    parts: [
      { contentType: 'application/smil', charset: 'utf-8', contentId: 'smil', data: utf8('<smil/>') },
      { contentType: 'image/jpeg', name: 'a.jpg', contentLocation: 'a.jpg', data: new Uint8Array(40).fill(0xff) },
      { contentType: 'text/plain', charset: 'utf-8', data: utf8('hello 😀') },
    ],
  };
  return [
    encodeMms(sendReq),
    encodeMms({ ...sendReq, type: 'm-retrieve-conf', date: new Date('2024-03-01T13:05:09Z'), from: '+15550001111/TYPE=PLMN' }),
    encodeMms({ type: 'm-delivery-ind', version: '1.2', messageId: 'mid-1', to: ['+15551234567/TYPE=PLMN'], date: new Date(0), status: 'retrieved' }),
    encodeNotifyRespInd({ transactionId: 'tx-1', status: 'deferred', reportAllowed: true }),
    encodeAcknowledgeInd({ transactionId: 'tx-2' }),
  ];
}

export const goldenMms = (): Uint8Array[] => golden.mms.map((v) => fromHex(v.hex));
export const goldenPush = (): Uint8Array[] => golden.push.map((v) => fromHex(v.hex));

/** WSP/MMS tokens: uintvar edges, value-length and text quotes, header codes, the content types. */
export const WSP_DICTIONARY: readonly Uint8Array[] = [
  Uint8Array.of(0x8f, 0xff, 0xff, 0xff, 0x7f),
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
  Uint8Array.of(0x1f, 0x8f, 0xff, 0xff, 0xff, 0x7f),
  Uint8Array.of(0x1e),
  Uint8Array.of(0x1f, 0x00),
  Uint8Array.of(0x7f),
  Uint8Array.of(0x84, 0xa3),
  Uint8Array.of(0x8c, 0x82),
  Uint8Array.of(0x8d, 0x92),
  Uint8Array.of(0x89, 0x01, 0x81),
  Uint8Array.of(0x85, 0x04, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x88, 0x05, 0x81, 0x03, 0xff, 0xff, 0xff),
  Uint8Array.of(0xea, 0x7f, 0xff),
  ...tokens('application/vnd.wap.mms-message\0', 'multipart/related\0', '\x81\xea', '\x83\x85'),
];

export function createTarget(): FuzzTarget {
  const target: FuzzTarget = {
    name: 'mms-pdu',
    corpus: { seeds: [...goldenMms(), ...encodedMms()], dictionary: WSP_DICTIONARY, maxBytes: 4096 },
    run(input) {
      const pdu = decodeMms(input);
      return [pdu, each(target, input, [() => toNotification(pdu), () => toDeliveryInd(pdu)])];
    },
    expected: (err, input) => err instanceof MmsError && err.status === 400 && err.offset >= 0 && err.offset <= input.length,
  };
  return target;
}
