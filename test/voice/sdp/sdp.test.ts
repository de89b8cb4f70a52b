import { describe, expect, it } from 'vitest';
import { acceptAnswer, buildAnswer, buildOffer, describeAudio, negotiate, SdpError } from '../../../src/voice/sdp/sdp.ts';

// An offer as a carrier trunk (Asterisk-style) sends it, CRLF line ends.
const TRUNK_OFFER = [
  'v=0',
  'o=- 1234 5678 IN IP4 203.0.113.5',
  's=Asterisk',
  'c=IN IP4 203.0.113.5',
  't=0 0',
  'm=audio 17000 RTP/AVP 18 8 0 101',
  'a=rtpmap:18 G729/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

const local = { address: '192.0.2.10', port: 30_000, sessionId: 42, sessionVersion: 1 };

describe('SDP offer/answer', () => {
  it('reads the audio stream of a trunk offer', () => {
    const d = describeAudio(TRUNK_OFFER);
    expect(d).toMatchObject({ address: '203.0.113.5', port: 17_000, rtcpPort: 17_001, direction: 'sendrecv', dtmfPayloadType: 101, ptimeMs: 20, held: false });
    expect(d.codecs.map((c) => c.name)).toEqual(['G729', 'PCMA', 'PCMU', 'telephone-event']);
  });

  it("answers with the offerer's first G.711 codec and its telephone-event payload type", () => {
    const n = negotiate(describeAudio(TRUNK_OFFER));
    expect(n).toMatchObject({ law: 'pcma', payloadType: 8, dtmfPayloadType: 101, direction: 'sendrecv', hold: false });
    const answer = buildAnswer(local, n);
    expect(answer).toContain('m=audio 30000 RTP/AVP 8 101\r\n');
    expect(answer).toContain('c=IN IP4 192.0.2.10\r\n');
    expect(answer).toContain('a=rtpmap:8 PCMA/8000\r\n');
    expect(answer).toContain('a=rtpmap:101 telephone-event/8000\r\n');
    expect(answer).toContain('a=fmtp:101 0-16\r\n');
    expect(answer).toContain('a=ptime:20\r\n');
    expect(answer).toContain('a=sendrecv\r\n');
    expect(answer).not.toContain('G729');
    // What we write, we (and any parser) read back the same way.
    expect(describeAudio(answer)).toMatchObject({ address: '192.0.2.10', port: 30_000, dtmfPayloadType: 101, codecs: [{ law: 'pcma' }, { name: 'telephone-event' }] });
  });

  it('takes static payload types without rtpmap lines', () => {
    const offer = TRUNK_OFFER.replace('m=audio 17000 RTP/AVP 18 8 0 101', 'm=audio 17000 RTP/AVP 0').replace(/a=rtpmap:.*\r\n/g, '').replace('a=fmtp:101 0-16\r\n', '');
    expect(negotiate(describeAudio(offer))).toMatchObject({ law: 'pcmu', payloadType: 0, dtmfPayloadType: null });
  });

  it('refuses an offer with no G.711 (488)', () => {
    const offer = TRUNK_OFFER.replace('RTP/AVP 18 8 0 101', 'RTP/AVP 18 101');
    const err = (() => {
      try {
        negotiate(describeAudio(offer));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SdpError);
    expect((err as SdpError).status).toBe(488);
    expect(() => describeAudio(TRUNK_OFFER.replace('RTP/AVP', 'RTP/SAVP'))).toThrow(SdpError);
    expect(() => describeAudio('v=0\r\n')).toThrow(SdpError);
  });

  it('sees hold in a re-INVITE (sendonly, inactive, or c=0.0.0.0) and answers recvonly/inactive', () => {
    const sendonly = negotiate(describeAudio(TRUNK_OFFER.replace('a=sendrecv', 'a=sendonly')));
    expect(sendonly).toMatchObject({ hold: true, direction: 'recvonly' });
    expect(buildAnswer({ ...local, sessionVersion: 2 }, sendonly)).toContain('a=recvonly');
    expect(negotiate(describeAudio(TRUNK_OFFER.replace('a=sendrecv', 'a=inactive')))).toMatchObject({ hold: true, direction: 'inactive' });
    expect(negotiate(describeAudio(TRUNK_OFFER.replace(/c=IN IP4 203.0.113.5/, 'c=IN IP4 0.0.0.0')))).toMatchObject({ hold: true, direction: 'recvonly' });
    // Taken off hold: sendrecv again.
    expect(negotiate(describeAudio(TRUNK_OFFER))).toMatchObject({ hold: false, direction: 'sendrecv' });
  });

  it('offers PCMU, PCMA and telephone-event at ptime 20, and accepts the answer', () => {
    const offer = buildOffer(local);
    expect(offer).toContain('m=audio 30000 RTP/AVP 0 8 101\r\n');
    expect(offer).toContain('a=ptime:20\r\n');
    expect(offer).toMatch(/^v=0\r\no=agentphone 42 1 IN IP4 192.0.2.10\r\n/);
    const answer = TRUNK_OFFER.replace('RTP/AVP 18 8 0 101', 'RTP/AVP 0 101');
    expect(acceptAnswer(describeAudio(answer))).toMatchObject({ law: 'pcmu', payloadType: 0, dtmfPayloadType: 101, remote: { address: '203.0.113.5', port: 17_000 } });
  });

  // Found by `npm run fuzz` (sdp target): sdp-transform hands over whatever a line held.
  it('refuses ports that are not UDP ports with SdpError, never a negotiated call that cannot send', () => {
    for (const bad of ['m=audio 70000 RTP/AVP 0', 'm=audio  RTP/AVP 0', 'm=audio 65535 RTP/AVP 0']) {
      expect(() => describeAudio(TRUNK_OFFER.replace('m=audio 17000 RTP/AVP 18 8 0 101', bad)), bad).toThrow(SdpError);
    }
    expect(() => describeAudio(TRUNK_OFFER.replace('a=ptime:20', 'a=rtcp:99999'))).toThrow(SdpError);
  });

  it('reads all-digit values as text and skips payload types that are not 7-bit', () => {
    const offer = TRUNK_OFFER.replace(/c=IN IP4 203.0.113.5/, 'c=IN IP4 200')
      .replace('RTP/AVP 18 8 0 101', 'RTP/AVP 300 0 18 101')
      .replace('a=rtpmap:18 G729/8000', 'a=rtpmap:18 0/8000\r\na=rtpmap:300 PCMU/8000')
      .replace('a=ptime:20', 'a=ptime:');
    const d = describeAudio(offer);
    expect(d).toMatchObject({ address: '200', ptimeMs: null });
    expect(d.codecs.map((c) => [c.payloadType, c.name])).toEqual([[0, 'PCMU'], [18, '0'], [101, 'telephone-event']]);
    expect(negotiate(d)).toMatchObject({ law: 'pcmu', payloadType: 0, remote: { address: '200' } });
  });
});

describe('SDP answers to offers with several m= lines (RFC 3264 §6)', () => {
  // A softphone's audio+video offer (baresip, Linphone): video first, then audio, then a second audio.
  const AV_OFFER = [
    'v=0',
    'o=- 1 1 IN IP4 198.51.100.7',
    's=-',
    'c=IN IP4 198.51.100.7',
    't=0 0',
    'm=video 20000 RTP/AVP 96 97',
    'a=rtpmap:96 H264/90000',
    'a=rtpmap:97 VP8/90000',
    'm=audio 20002 RTP/AVP 0 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'm=audio 0 RTP/AVP 8',
    'm=application 20004 UDP/BFCP *',
    '',
  ].join('\r\n');

  it('answers every offered m= line in order, the audio one accepted and the others rejected with port 0 and their formats', () => {
    const answer = buildAnswer(local, negotiate(describeAudio(AV_OFFER)));
    const mLines = answer.split('\r\n').filter((l) => l.startsWith('m='));
    expect(mLines).toEqual(['m=video 0 RTP/AVP 96 97', 'm=audio 30000 RTP/AVP 0 101', 'm=audio 0 RTP/AVP 8', 'm=application 0 UDP/BFCP *']);
    // Our attributes belong to the audio line only.
    const afterAudio = answer.slice(answer.indexOf('m=audio 30000'));
    expect(afterAudio.slice(0, afterAudio.indexOf('m=audio 0'))).toContain('a=rtpmap:0 PCMU/8000');
    expect(answer.slice(0, answer.indexOf('m=audio 30000'))).not.toContain('a=rtpmap');
    // The answer reads back as the same one audio stream.
    expect(describeAudio(answer)).toMatchObject({ port: 30_000, streamIndex: 1, dtmfPayloadType: 101 });
  });

  it('an audio-only offer still gets a one-line answer, and our own offer has one line', () => {
    expect(buildAnswer(local, negotiate(describeAudio(TRUNK_OFFER))).match(/^m=/gm)).toHaveLength(1);
    expect(buildOffer(local).match(/^m=/gm)).toHaveLength(1);
  });
});
