/**
 * `npm run bench:voice -- --sip`: N concurrent calls from sipp through a real drachtio-server
 * (../shared/tools/drachtio, started on free loopback ports as the real-SIP tests do) into a
 * gateway with a webhook agent on loopback and instant "models". sipp does the signaling; each
 * caller's media is a node RTP endpoint named in sipp's SDP, which speaks 600 ms, waits for the
 * reply, and again, until the agent hangs up (the gateway sends BYE). Measured: call setup
 * (sipp's INVITE sent → 200 received, from its message trace), the gateway's share of turn
 * latency, outbound spacing jitter and rate error at the caller (see voice-media-stats.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VoiceInference } from '../src/voice/ports.ts';
import { drachtioUnavailable, onPath, startDrachtio } from '../test/helpers/sip-peers.ts';
import { audioSdp, awaitByeAndConfirm, sippRequest, writeScenario } from '../test/helpers/sipp-scenarios.ts';
import { startTestGateway } from '../test/helpers/test-gateway.ts';
import { until } from '../test/helpers/wait.ts';
import { WebhookReceiver } from '../test/helpers/webhook-receiver.ts';
import { CallerThread } from './voice-callers.ts';
import { addFigures, CallerStats, type MediaFigures } from './voice-media-stats.ts';

export interface SipFigures extends MediaFigures {
  setupMs: number[];
  failed: number;
}

/** Caller n's scenario: INVITE with its media at `mediaPort`, ACK the 200, then wait (long) for the gateway's BYE. */
function scenario(dir: string, n: number, mediaPort: number, to: string): string {
  const call = { user: to, from: `1555777${String(n).padStart(4, '0')}`, cseq: 1 };
  const xml = `${sippRequest('INVITE', { ...call, contact: 'caller', retrans: true, sdp: audioSdp({ owner: 'caller', port: mediaPort }) })}  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" />
${sippRequest('ACK', { ...call, inDialog: true })}${awaitByeAndConfirm(120_000)}`;
  return writeScenario(dir, `uac-${n}`, xml);
}

/** INVITE sent → 200 received, from sipp's -trace_msg file (each message follows a dashed line with its time). */
function setupTime(messageFile: string): number | undefined {
  const text = readFileSync(messageFile, 'utf8');
  const blocks = text.split(/^-{10,}\s*/m).slice(1);
  const at = (b: string) => {
    const m = /^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(b);
    return m ? Date.parse(`${m[1]}T${m[2]?.slice(0, 12)}Z`) + Number(`0.${m[2]?.split('.')[1]?.slice(3) ?? '0'}`) : undefined;
  };
  const invite = blocks.find((b) => /message sent/.test(b) && /\nINVITE /.test(b));
  const ok = blocks.find((b) => /message received/.test(b) && /\nSIP\/2\.0 200/.test(b) && /CSeq:\s*1 INVITE/i.test(b));
  const a = invite ? at(invite) : undefined;
  const b = ok ? at(ok) : undefined;
  return a !== undefined && b !== undefined ? b - a : undefined;
}

export function sipUnavailable(): string | undefined {
  return drachtioUnavailable() ?? (onPath('sipp') ? undefined : 'sipp (Debian sip-tester)');
}

/** Runs `calls` concurrent sipp calls of `turns` turns each through drachtio and the gateway. */
export async function runSipCalls(calls: number, turns: number, silenceMs: number, inference: VoiceInference): Promise<SipFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-bench-sip-'));
  const server = await startDrachtio();
  const hooks = new WebhookReceiver();
  const url = await hooks.start();
  const turnsBy = new Map<string, number>();
  hooks.answer = (h) => {
    if (h.json.event !== 'call.turn') return { status: 200, body: { action: 'ignore' } };
    const id = String(h.json.call_id);
    const n = (turnsBy.get(id) ?? 0) + 1;
    turnsBy.set(id, n);
    return { status: 200, body: n >= turns ? { action: 'hangup', reply: 'goodbye' } : { action: 'respond', reply: 'ok' } };
  };
  const gw = await startTestGateway(
    join(dir, 'data'),
    {
      log: { level: 'silent' },
      voice: {
        drachtio: { host: server.host, port: server.port, secret: server.secret },
        mediaAddress: '127.0.0.1',
        rtpBindHost: '127.0.0.1',
        rtpPorts: { min: 48_000, max: 48_999 },
        greeting: null,
        endpointing: { silenceMs, minSpeechMs: 64, prerollMs: 200 },
        agentDeadlineMs: 5000,
      },
    },
    undefined,
    { voice: { inference } },
  );
  const figures: SipFigures = { ...CallerStats.empty(), setupMs: [], failed: 0 };
  const callers = new CallerThread();
  try {
    await until(() => gw.voice.manager?.signalingStatus().connected, 10_000, 'voice connected to drachtio');
    const number = await gw.core.numbers.setWebhook(gw.numberA, { url });
    await Promise.all(
      Array.from({ length: calls }, async (_, n) => {
        const caller = await callers.open();
        const messages = join(dir, `messages-${n}.log`);
        const sipp = callers.run('sipp', ['-sf', scenario(dir, n, caller.port, number.phoneNumber), server.sip, '-i', '127.0.0.1', '-p', '0', '-m', '1', '-timeout', '180s', '-nostdin', '-trace_msg', '-message_file', messages], dir, 200_000);
        try {
          for (let t = 0; t < turns; t++) {
            const { speechEnd, replyAt } = await caller.turn();
            figures.share.push(replyAt - speechEnd - silenceMs);
          }
          const res = await sipp;
          if (res.code !== 0) figures.failed++;
          const setup = setupTime(messages);
          if (setup !== undefined) figures.setupMs.push(setup);
        } catch {
          figures.failed++;
        } finally {
          addFigures(figures, await caller.close());
        }
      }),
    );
  } finally {
    await callers.stop();
    await gw.stop();
    await hooks.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
