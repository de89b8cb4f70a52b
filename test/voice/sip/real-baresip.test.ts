import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { wavFile } from '../../../src/inference/runners/tts/wav.ts';
import { drachtioUnavailable, onPath, runPeer } from '../../helpers/sip-peers.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { rtpPortsFree, smallRtpRange, startSipGateway, untilRtpPortsFree, useCleanup, useDrachtioServer } from '../helpers/real-sip.ts';

/*
 * A real SIP phone calls the gateway: Debian's baresip dials a number through a real
 * drachtio-server, talks (a tone from a WAV file) and hangs up. Its sndfile module records what
 * it heard, so the test sees the gateway's greeting arrive as audio at the phone, and the
 * gateway's call record sees the phone's audio arrive.
 */

const tempDir = useTempDir('agentphone-baresip-');
const cleanup = useCleanup();

/**
 * 8 kHz mono 16-bit WAV: silence until `fromS` (the greeting plays undisturbed: talking over it
 * would barge in), then a 440 Hz tone until `toS` (speech to the test's energy VAD), then silence.
 */
function toneWav(seconds: number, fromS: number, toS: number): Buffer {
  const rate = 8000;
  const pcm = Buffer.alloc(rate * seconds * 2);
  for (let i = rate * fromS; i < rate * toS; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  return wavFile(pcm, rate);
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * baresip listens for SIP on UDP and TCP at `sip_listen`'s port and for TLS on the next port, and
 * gives up when either is taken. The pair is picked below the kernel's ephemeral range (32768 and
 * up), where no outgoing connection of a concurrent test can take the second port meanwhile.
 */
async function sipListenPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 2 * randomInt(5000, 10_000); // 10000–19998
    if ((await tcpPortFree(port)) && (await tcpPortFree(port + 1)) && (await rtpPortsFree({ min: port, max: port }))) return port;
  }
  throw new Error('no free port pair for baresip');
}

/** A baresip config dir: no sound card (a tone file in, a bridge out), G.711 only, calls recorded. */
function baresipHome(dir: string, sipPort: number, codec: 'PCMU' | 'PCMA'): string {
  const home = join(dir, 'baresip');
  mkdirSync(join(home, 'dumps'), { recursive: true });
  writeFileSync(join(home, 'tone.wav'), toneWav(5, 1, 2.5));
  writeFileSync(
    join(home, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      `audio_source aufile,${join(home, 'tone.wav')}`,
      'audio_player aubridge,nowhere',
      'audio_alert aubridge,nowhere',
      'ausrc_srate 8000',
      'ausrc_channels 1',
      `snd_path ${join(home, 'dumps')}`,
      'rtp_ports 24000-24999',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(home, 'accounts'), `<sip:phone@127.0.0.1:${sipPort}>;regint=0;audio_codecs=${codec}\n`);
  return home;
}

const missing = drachtioUnavailable() ?? (onPath('baresip') ? undefined : 'baresip (Debian baresip)');
describeWithTool('a real SIP phone (baresip) calling through a real drachtio-server', missing === undefined, missing ?? '', () => {
  const server = useDrachtioServer();

  it.each(['PCMU', 'PCMA'] as const)('answers a baresip call in %s: the phone hears the greeting, the gateway hears the phone, the hangup completes the call', async (codec) => {
    const dir = tempDir();
    const rtpPorts = smallRtpRange();
    const sip = await startSipGateway({ server: server(), dataDir: join(dir, 'data'), rtpPorts });
    cleanup.push(() => sip.stop());
    const home = baresipHome(dir, await sipListenPort(), codec);
    const phone = runPeer('baresip', ['-f', home, '-e', `/dial sip:${sip.number.phoneNumber}@${server().sip}`, '-t', '6'], { timeoutMs: 30_000 });
    const result = await phone;
    const calls = await sip.gw.voice.calls.list(sip.number.id, { limit: 1 });
    expect(calls[0], result.stdout + result.stderr).toMatchObject({ direction: 'inbound', status: 'completed', endReason: 'remote_hangup' });
    // The phone's tone reached the gateway as audio: its turn loop heard an utterance end.
    await sip.hooks.waitFor(() => sip.hooks.events('call.completed').length === 1, 5000);
    expect(sip.hooks.events('call.turn').length).toBeGreaterThanOrEqual(1);
    // What the phone decoded from the gateway's RTP: the greeting, so not silence.
    const heard = readdirSync(join(home, 'dumps')).find((f) => f.endsWith('-dec.wav'));
    expect(heard, `baresip recorded nothing: ${result.stdout}`).toBeDefined();
    const pcm = readFileSync(join(home, 'dumps', heard!)).subarray(44);
    let loud = 0;
    for (let i = 0; i + 1 < pcm.length; i += 2) if (Math.abs(pcm.readInt16LE(i)) > 500) loud++;
    // The greeting (300 ms of tone from the fake TTS) arrives whole: 2,400 samples, most of them loud.
    expect(loud).toBeGreaterThan(2000);
    await untilRtpPortsFree(rtpPorts);
  });
});
