import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { buildOffer, describeAudio, type AudioDescription } from '../../../src/voice/index.ts';
import { FakeInference } from '../../fakes/voice.ts';
import { LoopbackSignaling } from '../../fakes/sip-loopback.ts';
import { startTestGateway } from '../../helpers/test-gateway.ts';
import { until } from '../../helpers/wait.ts';
import { RtpPeer } from './rtp-peer.ts';

/*
 * Live calls for the media robustness checks (test/security/voice-rtp.test.ts and the fuzz
 * harness's live-rtp target): a whole gateway with the loopback signaling fake, each call
 * answered, its caller a real RTP peer on loopback that has sent one packet (so the gateway has
 * latched onto it) and is receiving the gateway's 20 ms stream. An attacker socket sends from
 * another port.
 */

export interface LiveCall {
  callId: string;
  peer: RtpPeer;
  /** The gateway's media address for this call (from its SDP answer). */
  media: AudioDescription;
  dialog: { reinvite(offer: string): string; remoteBye(): void };
}

export type LiveGateway = Awaited<ReturnType<typeof startTestGateway>>;

export interface LiveCalls {
  gw: LiveGateway;
  calls: LiveCall[];
  /** A socket that is no party to any call. */
  attacker: Socket;
  /** Sends raw bytes from the attacker socket to a call's RTP (or RTCP) port. */
  sendRaw(call: LiveCall, bytes: Uint8Array, rtcp?: boolean): void;
  /** agentphone_rtp_dropped_total, by kind. */
  dropped(): Promise<Record<string, number>>;
  mediaFaults(): Promise<number>;
  stop(): Promise<void>;
}

const VOICE = {
  mediaAddress: '127.0.0.1',
  rtpBindHost: '127.0.0.1',
  endpointing: { silenceMs: 300, minSpeechMs: 60, prerollMs: 200 },
  greeting: null,
  agentDeadlineMs: 3000,
};

export async function startLiveCalls(dataDir: string, count: number, rtpPorts = { min: 45_000, max: 45_999 }): Promise<LiveCalls> {
  const signaling = new LoopbackSignaling();
  const gw = await startTestGateway(dataDir, { voice: { ...VOICE, rtpPorts } }, undefined, { voice: { signaling, inference: new FakeInference({ record: false }), rtcpIntervalMs: 200 } });
  const number = gw.core.numbers.get(gw.numberA);
  const calls: LiveCall[] = [];
  const attacker = createSocket('udp4');
  attacker.bind(0, '127.0.0.1');
  await once(attacker, 'listening');
  try {
    for (let i = 0; i < count; i++) {
      const peer = await RtpPeer.open();
      const offer = buildOffer({ address: '127.0.0.1', port: peer.port, sessionId: i + 1, sessionVersion: 1 });
      const res = await signaling.invite(`+1555123450${i % 10}`, number.phoneNumber, offer).result;
      if (res.status !== 200 || !res.sdp || !res.dialog) throw new Error(`live call ${i} was answered ${res.status}`);
      const media = describeAudio(res.sdp);
      peer.sendTo(media.address, media.port);
      const callId = await until(async () => (await gw.voice.calls.list(number.id, { limit: 50 })).find((c) => c.sipCallId === res.dialog?.sipCallId)?.id, 5000, 'call record');
      // One packet from the caller first: the gateway latches onto its address, not the attacker's.
      peer.sendPacket({ payload: new Uint8Array(160).fill(0xff) });
      await peer.until(() => peer.received.length > 0);
      calls.push({ callId, peer, media, dialog: res.dialog });
    }
  } catch (err) {
    attacker.close();
    for (const c of calls) c.peer.close();
    await gw.stop();
    throw err;
  }
  const counter = async (name: string) => (await gw.core.metrics.getSingleMetric(name)?.get())?.values ?? [];
  return {
    gw,
    calls,
    attacker,
    sendRaw: (call, bytes, rtcp = false) => attacker.send(bytes, rtcp ? call.media.rtcpPort : call.media.port, call.media.address),
    dropped: async () => Object.fromEntries((await counter('agentphone_rtp_dropped_total')).map((v) => [String(v.labels.kind), v.value])),
    mediaFaults: async () => (await counter('agentphone_call_media_faults_total')).reduce((n, v) => n + v.value, 0),
    stop: async () => {
      attacker.close();
      for (const c of calls) c.peer.close();
      await gw.stop();
    },
  };
}
