/** WSP push PDUs (SMS to port 2948) with the MMS notification or delivery report inside. */
import { MmsError, decodeMmsPush, decodeWapPush, encodeMms, encodeWapPush } from '../../../src/mms/pdu/index.ts';
import { each, type FuzzTarget } from '../target.ts';
import { WSP_DICTIONARY, encodedMms, goldenMms, goldenPush } from './mms-pdu.ts';

export function createTarget(): FuzzTarget {
  const notification = encodeMms({
    type: 'm-notification-ind',
    transactionId: 'T1',
    version: '1.2',
    from: '+15550001111/TYPE=PLMN',
    messageClass: 'personal',
    messageSize: 16384,
    expiry: { relativeSeconds: 259_200 },
    contentLocation: 'http://mmsc.example/m/1',
  });
  const bodies = [notification, ...goldenMms().slice(0, 2), ...encodedMms().slice(2, 3)];
  const target: FuzzTarget = {
    name: 'wap-push',
    corpus: {
      seeds: [...goldenPush(), ...bodies.map((body, i) => encodeWapPush({ transactionId: i, body }))],
      dictionary: [...WSP_DICTIONARY, Uint8Array.of(0x06), Uint8Array.of(0x07), Uint8Array.of(0xaf, 0x84), Uint8Array.of(0xbe)],
      maxBytes: 2048,
    },
    run: (input) => each(target, input, [() => decodeWapPush(input), () => decodeMmsPush(input)]),
    expected: (err, input) => err instanceof MmsError && err.status === 400 && err.offset >= 0 && err.offset <= input.length,
  };
  return target;
}
