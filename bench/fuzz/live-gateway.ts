/**
 * The gateway under the live-rtp fuzz target, in a process of its own (virtual modems cannot
 * live in the fuzzer's worker thread, and a crash must show as this process dying): two
 * answered calls through the loopback signaling fake with real UDP. Speaks over the IPC channel:
 * 'ready' with the first call's media address; a 'health' request gets the calls' state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveCalls, type LiveCall } from '../../test/voice/helpers/live-calls.ts';

export type LiveGatewayMessage =
  | { type: 'ready'; media: { address: string; port: number; rtcpPort: number } }
  | { type: 'health'; problem: string | null; dropped: Record<string, number>; otherPackets: number };

const send = (m: LiveGatewayMessage) => process.send?.(m);
const dir = mkdtempSync(join(tmpdir(), 'agentphone-fuzz-live-'));
const live = await startLiveCalls(dir, 2, { min: 46_000, max: 46_999 });
const [target, other] = live.calls as [LiveCall, LiveCall];
// The other caller talks the whole time, one packet per 20 ms.
const talk = setInterval(() => {
  for (const f of other.peer.frames(new Int16Array(160))) other.peer.sendPacket(f);
}, 20);

process.on('message', (m: { type: string }) => {
  if (m.type === 'health') {
    void (async () => {
      let problem: string | null = null;
      for (const c of live.calls) {
        const status = (await live.gw.voice.calls.get(c.callId))?.status;
        if (status !== 'in-progress') problem = `call ${c.callId} is ${status ?? 'gone'}: a datagram ended it`;
      }
      send({ type: 'health', problem, dropped: await live.dropped(), otherPackets: other.peer.received.length });
    })();
  } else if (m.type === 'stop') {
    clearInterval(talk);
    void live.stop().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
send({ type: 'ready', media: { address: target.media.address, port: target.media.port, rtcpPort: target.media.rtcpPort } });
