import { afterEach, describe, expect, it } from 'vitest';
import { inputAt } from '../../bench/fuzz/engine.ts';
import { createTarget } from '../../bench/fuzz/targets/rtp.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { startLiveCalls, type LiveCall, type LiveCalls } from '../voice/helpers/live-calls.ts';

/*
 * A call's RTP and RTCP ports take datagrams from anyone. Whatever arrives there may end at most
 * that one call, never the gateway: malformed datagrams are dropped and counted, and a fault
 * inside one call's media ends that call (call.failed, media_fault) while the others go on.
 */

const tempDir = useTempDir('agentphone-voice-rtp-');
const running: LiveCalls[] = [];
const escaped: unknown[] = [];
const onEscape = (err: unknown) => escaped.push(err);
afterEach(async () => {
  process.off('uncaughtException', onEscape);
  for (const r of running.splice(0)) await r.stop();
});

async function live(count: number): Promise<LiveCalls> {
  escaped.length = 0;
  process.on('uncaughtException', onEscape);
  const r = await startLiveCalls(tempDir(), count);
  running.push(r);
  return r;
}

/** Packets the gateway has sent to this caller so far. */
const sent = (c: LiveCall) => c.peer.received.length;
/** The highest sequence number of the caller's stream the gateway reports having received (RTCP). */
const reportedSeq = (c: LiveCall) => Math.max(0, ...c.peer.rtcp.flatMap((r) => ('reports' in r ? r.reports.map((b) => b.extendedHighestSeq) : [])));

async function stillFlowing(r: LiveCalls, c: LiveCall): Promise<void> {
  const before = sent(c);
  await c.peer.until(() => sent(c) >= before + 10);
  const status = (await r.gw.voice.calls.get(c.callId))?.status;
  expect(status).toBe('in-progress');
}

describe('datagrams to a live call’s media ports', () => {
  it('a 14-byte RTP datagram with payload type 101 and a 2-byte payload is dropped and counted; the call goes on', async () => {
    const r = await live(1);
    const call = r.calls[0] as LiveCall;
    const datagram = Uint8Array.of(0x80, 101, 0x12, 0x34, 0, 0, 0x1f, 0x40, 0xde, 0xad, 0xbe, 0xef, 5, 0x80);
    expect(datagram).toHaveLength(14);
    r.sendRaw(call, datagram);
    await until(async () => (await r.dropped()).dtmf === 1 || undefined, 5000, 'the datagram counted');
    await stillFlowing(r, call);
    expect(escaped).toEqual([]);
    expect(await r.mediaFaults()).toBe(0);
  });

  it('20,000 random and mutated RTP/RTCP/RFC 4733 datagrams: the gateway stays up, the other call keeps its audio both ways, and the drops are counted', async () => {
    const r = await live(2);
    const [target, other] = r.calls as [LiveCall, LiveCall];
    const corpus = createTarget();
    const sentBefore = sent(other);
    const seqBefore = reportedSeq(other);
    for (let i = 0; i < 20_000; i++) {
      r.sendRaw(target, inputAt(corpus, 13, i), i % 4 === 3);
      if (i % 200 === 199) {
        // The other caller keeps talking; the barrage goes out in bursts the loop can keep up with.
        for (const f of other.peer.frames(new Int16Array(160))) other.peer.sendPacket(f);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    for (const c of r.calls) await stillFlowing(r, c);
    expect(sent(other) - sentBefore).toBeGreaterThan(10);
    // The gateway's RTCP reports show it received the other caller's packets during the barrage.
    await until(() => reportedSeq(other) >= seqBefore + 90 || undefined, 5000, 'RTCP report of the other call');
    const dropped = await r.dropped();
    expect((dropped.rtp ?? 0) + (dropped.rtcp ?? 0) + (dropped.dtmf ?? 0)).toBeGreaterThan(1000);
    expect(escaped).toEqual([]);
    expect(await r.mediaFaults()).toBe(0);
  }, 60_000);

  it('a fault inside one call’s media ends that call as failed (media_fault) and no other', async () => {
    const r = await live(2);
    const [target, other] = r.calls as [LiveCall, LiveCall];
    // A bug planted in code that runs inside the media stream's datagram handler (a digit listener).
    r.gw.voice.manager?.session(target.callId)?.on('dtmf', () => {
      throw new TypeError('planted bug');
    });
    await target.peer.digit('5');
    await until(async () => (await r.gw.voice.calls.get(target.callId))?.status === 'failed' || undefined, 5000, 'the call failed');
    expect(await r.gw.voice.calls.get(target.callId)).toMatchObject({ status: 'failed', endReason: 'media_fault' });
    expect(await r.mediaFaults()).toBe(1);
    await stillFlowing(r, other);
    expect(r.gw.voice.manager?.activeCalls).toBe(1);
    expect(escaped).toEqual([]);
  });
});
