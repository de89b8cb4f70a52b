/** SDP offers and answers from a SIP peer, through describe → negotiate → our answer. */
import { SdpError, acceptAnswer, type AudioDescription, type Negotiated, buildAnswer, buildOffer, describeAudio, negotiate } from '../../../src/voice/sdp/sdp.ts';
import { tokens } from '../mutate.ts';
import { utf8, type FuzzTarget } from '../target.ts';

const TRUNK_OFFER = [
  'v=0', 'o=- 1234 5678 IN IP4 203.0.113.5', 's=Asterisk', 'c=IN IP4 203.0.113.5', 't=0 0',
  'm=audio 17000 RTP/AVP 18 8 0 101', 'a=rtpmap:18 G729/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
].join('\r\n');

const OTHERS = [
  TRUNK_OFFER.replace('a=sendrecv', 'a=sendonly'),
  TRUNK_OFFER.replace('c=IN IP4 203.0.113.5', 'c=IN IP4 0.0.0.0'),
  TRUNK_OFFER.replace('m=audio', 'm=video 0 RTP/AVP 96\r\nm=audio').replace('a=ptime:20', 'a=rtcp:17003 IN IP4 203.0.113.5\r\na=ptime:30'),
  'v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 2001:db8::1\r\na=inactive\r\n',
  'v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\nm=audio 5004 RTP/SAVP 0 8\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\n',
];

export function createTarget(): FuzzTarget {
  const local = { address: '192.0.2.10', port: 30_000, sessionId: 42, sessionVersion: 1 };
  const ours = buildOffer(local);
  const answer = buildAnswer(local, negotiate(describeAudio(TRUNK_OFFER)));
  return {
    name: 'sdp',
    corpus: {
      seeds: [TRUNK_OFFER, ...OTHERS, ours, answer].map(utf8),
      dictionary: tokens('\r\n', '\n', 'm=audio ', 'c=IN IP4 ', 'c=IN IP6 ', ' RTP/AVP ', 'a=rtpmap:', 'a=rtcp:', 'a=fmtp:', 'a=ptime:', 'a=sendonly', '0.0.0.0', '65536', '99999999999', '-1', ' 0 8 101', 'telephone-event/8000', 'PCMU/8000', '/', '='),
      maxBytes: 4096,
    },
    run(input) {
      const offer = describeAudio(new TextDecoder().decode(input));
      const n = negotiate(offer);
      return { offer, n, answer: buildAnswer(local, n), accepted: acceptAnswer(offer) };
    },
    expected: (err) => err instanceof SdpError,
    check(result) {
      const { offer, n } = result as { offer: AudioDescription; n: Negotiated };
      // Each value goes to dgram send() or an RTP header: a wrong type or range throws or mislabels there.
      if (typeof offer.address !== 'string' || offer.address === '') return `negotiated a remote address ${JSON.stringify(offer.address)}`;
      for (const port of [offer.port, offer.rtcpPort]) {
        if (!(Number.isInteger(port) && port >= 1 && port <= 65_535)) return `negotiated an RTP/RTCP port ${JSON.stringify(port)}`;
      }
      for (const pt of [n.payloadType, n.dtmfPayloadType ?? 0]) {
        if (!(Number.isInteger(pt) && pt >= 0 && pt <= 127)) return `negotiated RTP payload type ${JSON.stringify(pt)}`;
      }
      if (offer.ptimeMs !== null && !(typeof offer.ptimeMs === 'number' && offer.ptimeMs > 0)) return `read ptime ${JSON.stringify(offer.ptimeMs)}`;
      return undefined;
    },
  };
}
