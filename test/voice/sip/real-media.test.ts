import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runPeer } from '../../helpers/sip-peers.ts';
import { callerScenario, receivedMessages } from '../../helpers/sipp-scenarios.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { RtpPeer } from '../helpers/rtp-peer.ts';
import { sippUnavailable, smallRtpRange, startSipGateway, untilRtpPortsFree, useCleanup, useDrachtioServer } from '../helpers/real-sip.ts';

const tempDir = useTempDir('agentphone-real-media-');
const cleanup = useCleanup();

const missing = sippUnavailable();
describeWithTool('media negotiation with a real SIP caller (drachtio-server + sipp)', missing === undefined, missing ?? '', () => {
  const server = useDrachtioServer();

  it('answers an audio+video offer with both m= lines: audio accepted, video rejected with port 0 and its formats; audio flows', async () => {
    const rtpPorts = smallRtpRange();
    const g = await startSipGateway({ server: server(), dataDir: tempDir(), rtpPorts });
    cleanup.push(() => g.stop());
    // The caller's media is a node RTP endpoint, so the test can count what the gateway sends.
    const peer = await RtpPeer.open();
    cleanup.push(() => peer.close());
    const dir = tempDir();
    // sipp's usual offer with a video stream ahead of the audio, both on the peer's ports, and a
    // longer call so enough audio arrives.
    const sdp = `v=0\no=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=video ${peer.port + 2} RTP/AVP 96\na=rtpmap:96 H264/90000\nm=audio ${peer.port} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n`;
    const scenario = callerScenario(dir, { requestUser: g.number.phoneNumber, toUser: g.number.phoneNumber, expect: 200, name: 'audio-video', sdp, pauseMs: 1500 });
    expect(readFileSync(scenario, 'utf8')).toContain('m=video');
    const messages = join(dir, 'messages.log');
    const res = await runPeer('sipp', ['-sf', scenario, server().sip, '-i', '127.0.0.1', '-p', '0', '-m', '1', '-timeout', '15s', '-nostdin', '-trace_msg', '-message_file', messages], { timeoutMs: 30_000 });
    expect(res.code, res.stdout + res.stderr).toBe(0);

    const ok = receivedMessages(messages).find((m) => m.startsWith('SIP/2.0 200') && /CSeq:\s*1 INVITE/i.test(m)) ?? '';
    const mLines = ok.split('\n').filter((l) => l.startsWith('m='));
    expect(mLines).toHaveLength(2);
    expect(mLines[0]).toBe('m=video 0 RTP/AVP 96');
    expect(mLines[1]).toMatch(/^m=audio (\d+) RTP\/AVP 0 ?$/);
    const audioPort = Number(/^m=audio (\d+)/.exec(mLines[1] as string)?.[1]);
    expect(audioPort).toBeGreaterThanOrEqual(rtpPorts.min);
    expect(audioPort).toBeLessThanOrEqual(rtpPorts.max);
    // The greeting and silence frames reached the caller's audio port during the call.
    expect(peer.received.filter((p) => p.payloadType === 0).length).toBeGreaterThan(20);
    await until(async () => (await g.gw.voice.calls.list(g.number.id, { limit: 1 }))[0]?.status === 'completed', 10_000, 'call completed');
    await untilRtpPortsFree(rtpPorts);
  });
});
