import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { decodeG711, encodeG711, type G711Law } from '../../../src/voice/audio/g711.ts';
import { decodeRtp, encodeRtp, isRtcp, type RtpPacket } from '../../../src/voice/rtp/packet.ts';
import { decodeRtcp, type RtcpReport } from '../../../src/voice/rtp/rtcp.ts';
import { dtmfPackets } from '../../../src/voice/rtp/dtmf.ts';

/**
 * The far end of a call in tests: a real UDP RTP endpoint on loopback (the caller's phone).
 * It sends G.711 audio and RFC 4733 digits at the pace it is told, and records what arrives.
 */
export class RtpPeer {
  readonly received: Array<RtpPacket & { atMs: number }> = [];
  readonly rtcp: RtcpReport[] = [];
  private seq = 1000;
  private ts = 50_000;
  private readonly ssrc = 0x5eed;
  private target: { address: string; port: number } | undefined;
  private readonly waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    readonly rtcpSocket: Socket,
    readonly law: G711Law = 'pcmu',
  ) {
    socket.on('message', (msg) => {
      if (isRtcp(msg)) this.rtcp.push(...decodeRtcp(msg));
      else this.received.push({ ...decodeRtp(msg), atMs: performance.now() });
      for (const w of this.waiters.splice(0)) w();
    });
    rtcpSocket.on('message', (msg) => {
      this.rtcp.push(...decodeRtcp(msg));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(law: G711Law = 'pcmu'): Promise<RtpPeer> {
    // An even port with the odd one free above it, as an RTP endpoint must have.
    for (;;) {
      const rtp = createSocket('udp4');
      rtp.bind(0, '127.0.0.1');
      await once(rtp, 'listening');
      const port = rtp.address().port;
      if (port % 2 === 1 || port >= 65535) {
        rtp.close();
        continue;
      }
      const rtcp = createSocket('udp4');
      try {
        rtcp.bind(port + 1, '127.0.0.1');
        await once(rtcp, 'listening');
      } catch {
        rtp.close();
        rtcp.close();
        continue;
      }
      return new RtpPeer(rtp, rtcp, law);
    }
  }

  get port(): number {
    return this.socket.address().port;
  }

  sendTo(address: string, port: number): void {
    this.target = { address, port };
  }

  /** Sends one raw packet now. */
  sendPacket(p: Partial<RtpPacket> & { payload: Uint8Array }): void {
    if (!this.target) throw new Error('RtpPeer has no target');
    const buf = encodeRtp({ payloadType: 0, marker: false, sequence: this.seq, timestamp: this.ts, ssrc: this.ssrc, ...p });
    this.socket.send(buf, this.target.port, this.target.address);
  }

  /** The packets for `pcm8k` as 20 ms frames, numbered as this peer's stream (not yet sent). */
  frames(pcm8k: Int16Array): Array<{ sequence: number; timestamp: number; payload: Uint8Array; marker: boolean }> {
    const out = [];
    for (let i = 0; i < pcm8k.length; i += 160) {
      const frame = new Int16Array(160);
      frame.set(pcm8k.subarray(i, i + 160));
      out.push({ sequence: this.seq, timestamp: this.ts, payload: encodeG711(this.law, frame), marker: i === 0 });
      this.seq = (this.seq + 1) & 0xffff;
      this.ts = (this.ts + 160) >>> 0;
    }
    return out;
  }

  /** Sends audio paced in real time (one frame per 20 ms, on absolute deadlines). */
  async speak(pcm8k: Int16Array, payloadType = this.law === 'pcmu' ? 0 : 8): Promise<void> {
    const frames = this.frames(pcm8k);
    const start = performance.now();
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i] as (typeof frames)[number];
      this.sendPacket({ ...f, payloadType });
      const wait = start + (i + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Sends a DTMF digit as RFC 4733 packets, paced at 20 ms. */
  async digit(digit: string, payloadType = 101): Promise<void> {
    const timestamp = this.ts;
    for (const p of dtmfPackets(digit, 100)) {
      this.sendPacket({ payloadType, payload: p.payload, marker: p.marker, timestamp, sequence: this.seq });
      this.seq = (this.seq + 1) & 0xffff;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.ts = (this.ts + 960) >>> 0;
  }

  /** Audio received so far (media packets only), decoded. */
  audio(payloadType = this.law === 'pcmu' ? 0 : 8): Int16Array {
    const parts = this.received.filter((p) => p.payloadType === payloadType).map((p) => decodeG711(this.law, p.payload));
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Resolves when `check` holds, re-checking on every datagram received. */
  async until(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('RtpPeer: timed out waiting');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
    this.rtcpSocket.close();
  }
}
