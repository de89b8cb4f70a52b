/** RTP, RTCP and RFC 4733 datagrams: the codecs, and the media stream's receive path that a peer feeds. */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:dgram';
import { ManualClock } from '../../../test/fakes/manual-clock.ts';
import { decodeTelephoneEvent, dtmfPackets, encodeTelephoneEvent } from '../../../src/voice/rtp/dtmf.ts';
import { RtpError } from '../../../src/voice/rtp/errors.ts';
import { MediaStream } from '../../../src/voice/rtp/media-stream.ts';
import { decodeRtp, encodeRtp } from '../../../src/voice/rtp/packet.ts';
import { decodeRtcp, encodeRtcp } from '../../../src/voice/rtp/rtcp.ts';
import { each, type FuzzTarget } from '../target.ts';

const PCMU = 0;
const DTMF = 101;
const block = { ssrc: 0x1234, fractionLost: 12, cumulativeLost: -3, extendedHighestSeq: 70_000, jitter: 80, lastSr: 0xabcd, delaySinceLastSr: 655 };

function seeds(): Uint8Array[] {
  const audio = (sequence: number, extra: Partial<Parameters<typeof encodeRtp>[0]> = {}) =>
    encodeRtp({ payloadType: PCMU, marker: false, sequence, timestamp: 8000 + 160 * sequence, ssrc: 0x5eed, payload: new Uint8Array(160).fill(0xff), ...extra });
  const withExtension = Buffer.concat([Buffer.from([0x90, 0x00, 0x00, 0x07, 0, 0, 0x1f, 0x40, 0, 0, 0x5e, 0xed]), Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0, 0]), Buffer.alloc(160, 0xff)]);
  const padded = Buffer.concat([audio(8), Buffer.from([0, 0, 0, 4])]);
  padded[0] = (padded[0] as number) | 0x20;
  const sdes = Buffer.from([0x81, 0xca, 0x00, 0x03, 0, 0, 0x5e, 0xed, 0x01, 0x02, 0x61, 0x62]);
  const rr = encodeRtcp({ type: 'rr', ssrc: 0x5eed, reports: [block] });
  return [
    audio(1),
    audio(2, { marker: true, csrcs: [1, 2, 3] }),
    withExtension,
    padded,
    ...dtmfPackets('5', 100).map((p, i) => encodeRtp({ payloadType: DTMF, marker: p.marker, sequence: 100 + i, timestamp: 16_000, ssrc: 0x5eed, payload: p.payload })),
    encodeRtp({ payloadType: DTMF, marker: false, sequence: 200, timestamp: 24_000, ssrc: 0x5eed, payload: encodeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 800 }) }),
    encodeRtcp({ type: 'sr', ssrc: 0x5eed, ntpSeconds: 3_900_000_000, ntpFraction: 1 << 31, rtpTimestamp: 8000, packetCount: 10, octetCount: 1600, reports: [block, block] }),
    rr,
    Buffer.concat([rr, sdes]),
  ].map((b) => new Uint8Array(b));
}

/** A UDP socket stand-in: the stream listens for 'message' and may send or close. */
function fakeSocket(): Socket {
  const socket = new EventEmitter() as EventEmitter & { send: () => void; close: () => void };
  socket.send = () => undefined;
  socket.close = () => undefined;
  return socket as unknown as Socket;
}

/** Anything the receive path throws escapes a dgram 'message' handler: it would end the process. */
class ReceivePathError extends Error {}

const PRIMER = encodeRtp({ payloadType: PCMU, marker: true, sequence: 1, timestamp: 8000, ssrc: 0x5eed, payload: new Uint8Array(160).fill(0x7f) });
const FROM = { address: '192.0.2.7', port: 40_000, family: 'IPv4', size: 0 };

/** One fresh call's media stream fed a valid packet, then the input on the RTP and the RTCP port. */
function receive(input: Uint8Array): void {
  const clock = new ManualClock();
  const sockets = { rtp: fakeSocket(), rtcp: fakeSocket(), port: 40_000 };
  const stream = new MediaStream({ clock, sockets, remote: { address: '192.0.2.7', port: 40_000 }, codec: { law: 'pcmu', payloadType: PCMU, dtmfPayloadType: DTMF }, sendSilence: false });
  try {
    const datagram = Buffer.from(input);
    sockets.rtp.emit('message', PRIMER, FROM);
    sockets.rtp.emit('message', datagram, FROM);
    sockets.rtcp.emit('message', datagram, FROM);
    clock.advance(1000);
  } catch (err) {
    throw new ReceivePathError(`the media stream's datagram handler threw: ${String(err)}`, { cause: err });
  } finally {
    stream.close();
  }
}

export function createTarget(): FuzzTarget {
  const target: FuzzTarget = {
    name: 'rtp',
    corpus: { seeds: seeds(), dictionary: [Uint8Array.of(0x80, 0xe5), Uint8Array.of(0xbf), Uint8Array.of(0x80, 0xc8), Uint8Array.of(0x80, 0xc9), Uint8Array.of(0xff, 0xff)], maxBytes: 1500 },
    run(input) {
      const decoded = each(target, input, [() => decodeRtp(input), () => decodeRtcp(input), () => decodeTelephoneEvent(input)]);
      receive(input);
      return decoded;
    },
    expected: (err) => err instanceof RtpError,
  };
  return target;
}
