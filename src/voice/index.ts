/** Voice calls: media (RTP, G.711, jitter buffer, DTMF), SDP, SIP signaling and the turn loop. */
export { decodeG711, encodeG711, G711_SILENCE, type G711Law } from './audio/g711.ts';
export { LossConcealer } from './audio/loss-concealer.ts';
export { resample, Resampler } from './audio/resampler.ts';
export { systemVoiceClock, type VoiceClock, type VoiceTimer } from './clock.ts';
export { DtmfReceiver, dtmfPackets, type DtmfDigitEvent } from './rtp/dtmf.ts';
export { RtpError } from './rtp/errors.ts';
export { JitterBuffer, type JitterBufferOptions, type JitterFrame, type JitterStats } from './rtp/jitter-buffer.ts';
export { FRAME_MS, FRAME_SAMPLES, MediaStream, SAMPLE_RATE_HZ, type MediaCodec, type MediaStreamOptions, type RemoteMedia } from './rtp/media-stream.ts';
export { decodeRtp, encodeRtp, type RtpPacket } from './rtp/packet.ts';
export { Pacer } from './rtp/pacer.ts';
export { decodeRtcp, encodeRtcp, type RtcpReport } from './rtp/rtcp.ts';
export { bindRtpPorts, type PortRange, type RtpSockets } from './rtp/udp-port.ts';
export { acceptAnswer, buildAnswer, buildOffer, describeAudio, negotiate, SdpError, type AudioDescription, type Direction, type LocalMedia, type Negotiated } from './sdp/sdp.ts';
