import { parse, write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { AgentPhoneError } from '../../errors/index.ts';
import type { G711Law } from '../audio/g711.ts';

/** An offer or answer we cannot work with; SIP answers it with 488 Not Acceptable Here. */
export class SdpError extends AgentPhoneError {
  constructor(message: string) {
    super('SDP', message, { status: 488 });
  }
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** What one side's SDP says about its audio. */
export interface AudioDescription {
  address: string;
  port: number;
  rtcpPort: number;
  direction: Direction;
  /** Payload types offered, in the offerer's order of preference, with our names for them. */
  codecs: Array<{ payloadType: number; law: G711Law | null; name: string; rateHz: number }>;
  dtmfPayloadType: number | null;
  ptimeMs: number | null;
  /** Held by the other side: sendonly, inactive, or the RFC 2543 c=0.0.0.0 form. */
  held: boolean;
  /** Every m= line, in order (an answer has one for each, RFC 3264 §6), and which one this is. */
  streams: OfferedStream[];
  streamIndex: number;
}

/** One m= line as offered: what a rejecting answer line repeats. */
export interface OfferedStream {
  type: string;
  protocol: string;
  /** The format list as written (payload types, or tokens for non-RTP media). */
  formats: string;
}

/** What we will send and receive after offer/answer. */
export interface Negotiated {
  law: G711Law;
  payloadType: number;
  dtmfPayloadType: number | null;
  remote: { address: string; port: number; rtcpPort: number };
  /** Our side's direction in the answer. */
  direction: Direction;
  /** Whether we must stop sending (the other side put the call on hold). */
  hold: boolean;
  /** The offer's m= lines and the audio one we took; the answer rejects the others (port 0). */
  streams: OfferedStream[];
  streamIndex: number;
}

export interface LocalMedia {
  address: string;
  port: number;
  /** o= session id and version; bump the version on every re-offer or changed answer. */
  sessionId: number;
  sessionVersion: number;
}

const STATIC: Record<number, { name: string; law: G711Law }> = { 0: { name: 'PCMU', law: 'pcmu' }, 8: { name: 'PCMA', law: 'pcma' } };
const DTMF_PAYLOAD_TYPE = 101;
const PTIME_MS = 20;

function lawOf(name: string): G711Law | null {
  const n = name.toUpperCase();
  return n === 'PCMU' ? 'pcmu' : n === 'PCMA' ? 'pcma' : null;
}

function parseSdp(text: string): SessionDescription {
  try {
    return parse(text);
  } catch (err) {
    throw new SdpError(`unparseable SDP: ${(err as Error).message}`);
  }
}

/**
 * A UDP port from the SDP, or an SdpError: sdp-transform hands over whatever the line held
 * (a number, an empty string, 70000), and dgram send() throws on anything but 1–65535.
 */
function udpPort(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) throw new SdpError(`SDP ${what} ${JSON.stringify(value)} is not a UDP port`);
  return value;
}

/** RTP payload types are 7 bits (RFC 3550 §5.1); anything else in the m= line cannot be sent. */
const isPayloadType = (pt: number): boolean => Number.isInteger(pt) && pt >= 0 && pt <= 127;

/** Reads the first audio stream of an offer or answer. */
export function describeAudio(text: string): AudioDescription {
  const session = parseSdp(text);
  const streamIndex = session.media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  const audio = session.media[streamIndex];
  if (!audio) throw new SdpError('SDP has no active audio stream');
  const streams = session.media.map((m) => ({ type: String(m.type), protocol: String(m.protocol), formats: String(m.payloads ?? '').trim() }));
  if (!/^RTP\/AVP$/i.test(audio.protocol)) throw new SdpError(`unsupported media protocol ${audio.protocol} (only RTP/AVP)`);
  // sdp-transform turns an all-digit value into a number: `c=IN IP4 200` gives 200.
  const address = String(audio.connection?.ip ?? session.connection?.ip ?? '');
  if (!address) throw new SdpError('SDP has no connection address (c=)');
  const port = udpPort(audio.port, 'audio port');
  const rtcpPort = udpPort(audio.rtcp?.port ?? port + 1, 'RTCP port');
  const direction = (audio.direction ?? session.direction ?? 'sendrecv') as Direction;
  const payloads = String(audio.payloads ?? '')
    .split(/\s+/)
    .filter((p) => p !== '')
    .map(Number)
    .filter(isPayloadType);
  const codecs = payloads.map((pt) => {
    const rtp = audio.rtp.find((r) => r.payload === pt);
    const name = rtp ? String(rtp.codec) : (STATIC[pt]?.name ?? `PT${pt}`);
    return { payloadType: pt, law: rtp ? lawOf(name) : (STATIC[pt]?.law ?? null), name, rateHz: rtp?.rate ?? 8000 };
  });
  const dtmf = codecs.find((c) => c.name.toLowerCase() === 'telephone-event' && c.rateHz === 8000);
  const ptime = (audio as MediaDescription & { ptime?: unknown }).ptime;
  return {
    address,
    port,
    rtcpPort,
    direction,
    codecs,
    dtmfPayloadType: dtmf?.payloadType ?? null,
    ptimeMs: typeof ptime === 'number' && ptime > 0 ? ptime : null,
    held: direction === 'sendonly' || direction === 'inactive' || address === '0.0.0.0',
    streams,
    streamIndex,
  };
}

const ANSWER_DIRECTION: Record<Direction, Direction> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

/** Picks the offerer's first G.711 codec and telephone-event; throws SdpError (488) when there is none. */
export function negotiate(offer: AudioDescription): Negotiated {
  const codec = offer.codecs.find((c) => c.law !== null && c.rateHz === 8000);
  if (!codec?.law) throw new SdpError(`no common codec: offered ${offer.codecs.map((c) => c.name).join(', ') || 'nothing'}, we take PCMU or PCMA`);
  const direction = offer.address === '0.0.0.0' ? 'recvonly' : ANSWER_DIRECTION[offer.direction];
  return {
    law: codec.law,
    payloadType: codec.payloadType,
    dtmfPayloadType: offer.dtmfPayloadType,
    remote: { address: offer.address, port: offer.port, rtcpPort: offer.rtcpPort },
    direction,
    hold: offer.held,
    streams: offer.streams,
    streamIndex: offer.streamIndex,
  };
}

/** The answer's codec must be one we offered; reads what the answerer chose. */
export function acceptAnswer(answer: AudioDescription): Negotiated {
  const n = negotiate(answer);
  return { ...n, direction: ANSWER_DIRECTION[answer.direction] };
}

/**
 * Our SDP: the audio stream, at `streams[streamIndex]` among the offer's m= lines when answering.
 * Every other offered line is rejected (RFC 3264 §6): port 0, same type, protocol and formats.
 */
function audioSdp(local: LocalMedia, media: Pick<MediaDescription, 'rtp' | 'fmtp' | 'payloads'>, direction: Direction, offered?: Pick<Negotiated, 'streams' | 'streamIndex'>): string {
  const audio = {
    type: 'audio',
    port: local.port,
    protocol: 'RTP/AVP',
    ...media,
    ptime: PTIME_MS,
    direction,
  } as MediaDescription;
  const lines = offered
    ? offered.streams.map((m, i) =>
        i === offered.streamIndex ? audio : ({ type: m.type, port: 0, protocol: m.protocol, payloads: m.formats, rtp: [], fmtp: [] } as unknown as MediaDescription),
      )
    : [audio];
  const session: SessionDescription = {
    version: 0,
    origin: { username: 'agentphone', sessionId: local.sessionId, sessionVersion: local.sessionVersion, netType: 'IN', ipVer: 4, address: local.address },
    name: 'AgentPhone',
    connection: { version: 4, ip: local.address },
    timing: { start: 0, stop: 0 },
    media: lines,
  };
  return write(session);
}

/** Our offer: PCMU, PCMA, telephone-event 0-16; ptime 20. */
export function buildOffer(local: LocalMedia, direction: Direction = 'sendrecv'): string {
  return audioSdp(
    local,
    {
      payloads: `0 8 ${DTMF_PAYLOAD_TYPE}`,
      rtp: [
        { payload: 0, codec: 'PCMU', rate: 8000 },
        { payload: 8, codec: 'PCMA', rate: 8000 },
        { payload: DTMF_PAYLOAD_TYPE, codec: 'telephone-event', rate: 8000 },
      ],
      fmtp: [{ payload: DTMF_PAYLOAD_TYPE, config: '0-16' }],
    },
    direction,
  );
}

/** Our answer to a negotiated offer: the one codec chosen, plus telephone-event when offered; every other m= line rejected. */
export function buildAnswer(local: LocalMedia, n: Negotiated): string {
  const codecName = n.law === 'pcmu' ? 'PCMU' : 'PCMA';
  const rtp = [{ payload: n.payloadType, codec: codecName, rate: 8000 }];
  const fmtp = [];
  if (n.dtmfPayloadType !== null) {
    rtp.push({ payload: n.dtmfPayloadType, codec: 'telephone-event', rate: 8000 });
    fmtp.push({ payload: n.dtmfPayloadType, config: '0-16' });
  }
  return audioSdp(local, { payloads: rtp.map((r) => r.payload).join(' '), rtp, fmtp }, n.direction, n);
}
