import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { answeringCallee, ringThenCanceledCallee, writeScenario } from '../helpers/sipp-scenarios.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { RtpPeer } from '../voice/helpers/rtp-peer.ts';
import { sippUnavailable, smallRtpRange, startSipGateway, startSipp, useCleanup, useDrachtioServer } from '../voice/helpers/real-sip.ts';
import { call, connect, httpTransport } from './mcp-client.ts';

/*
 * place_call and hang_up from an MCP agent against a real drachtio-server with sipp as the
 * callee (the harness of test/voice/sip): the INVITE goes out on the trunk, hanging up while it
 * rings sends CANCEL, and get_call shows the call canceled with the SIP status.
 */

const CALLEE = '+15557654321';
const tempDir = useTempDir('agentphone-mcp-sip-');
const cleanup = useCleanup();

const missing = sippUnavailable();
describeWithTool('MCP voice tools on a real drachtio-server and sipp', missing === undefined, missing ?? '', () => {
  const server = useDrachtioServer();

  it('place_call rings the callee over SIP, hang_up cancels it, get_call shows canceled/487', async () => {
    const dir = tempDir();
    const sipp = await startSipp(dir, writeScenario(dir, 'callee', ringThenCanceledCallee()));
    const g = await startSipGateway({ server: server(), dataDir: join(dir, 'data'), rtpPorts: smallRtpRange(), trunkPort: sipp.port });
    cleanup.push(() => g.stop());
    const agent = await connect(httpTransport(g.gw.url, g.gw.key));
    cleanup.push(() => agent.close());

    const placed = await call<{ callId: string }>(agent, 'place_call', { number_id: g.number.id, to: CALLEE, greeting: 'Hello, this is a reminder.', instructions: 'Remind them of the appointment.' });
    expect(placed.isError).toBe(false);
    await until(() => existsSync(join(dir, 'ringing.flag')), 10_000, 'the callee ringing');
    const ringing = await call(agent, 'get_call', { number_id: g.number.id, call_id: placed.json.callId });
    expect(ringing.json).toMatchObject({ status: 'ringing', direction: 'outbound', to: CALLEE });

    const ended = await call(agent, 'hang_up', { number_id: g.number.id, call_id: placed.json.callId });
    expect(ended.json).toMatchObject({ status: 'canceled' });
    const peer = await sipp.done;
    expect(peer.code, `sipp did not see the CANCEL:\n${peer.stdout.slice(-2000)}${peer.stderr}`).toBe(0);
    expect(readFileSync(sipp.messageFile, 'utf8')).toMatch(/^CANCEL sip:/m);
    const after = await call(agent, 'get_call', { number_id: g.number.id, call_id: placed.json.callId });
    expect(after.json).toMatchObject({ status: 'canceled', endReason: 'api_hangup', sipStatus: 487, billableMinutes: 0, transcript: [] });
  });

  it('an answered call: the greeting’s audio arrives, a keypad turn reaches the agent, get_call has it in the transcript, hang_up sends BYE', async () => {
    const dir = tempDir();
    const peer = await RtpPeer.open();
    cleanup.push(async () => peer.close());
    // The gateway's RTP port is where its greeting comes from.
    peer.socket.once('message', (_m, rinfo) => peer.sendTo(rinfo.address, rinfo.port));
    const sipp = await startSipp(dir, writeScenario(dir, 'callee', answeringCallee(peer.port)));
    const g = await startSipGateway({ server: server(), dataDir: join(dir, 'data'), rtpPorts: smallRtpRange(), trunkPort: sipp.port });
    cleanup.push(() => g.stop());
    g.hooks.answer = (h) => ({ status: 200, body: h.json.event === 'call.turn' ? { action: 'respond', reply: 'Thanks, see you Friday.' } : {} });
    const agent = await connect(httpTransport(g.gw.url, g.gw.key));
    cleanup.push(() => agent.close());

    const placed = await call<{ callId: string }>(agent, 'place_call', { number_id: g.number.id, to: CALLEE, greeting: 'Hi, your appointment is Friday.' });
    await peer.until(() => peer.received.length > 0);
    await peer.digit('5');
    await g.hooks.waitFor(() => g.hooks.events('call.turn').length === 1);
    const live = await until(async () => {
      const c = await call<{ status: string; transcript: Array<{ dtmf: string | null; agent: string | null }> }>(agent, 'get_call', { number_id: g.number.id, call_id: placed.json.callId });
      return c.json.transcript.length > 0 && c.json.transcript[0]?.agent !== null ? c : undefined;
    }, 10_000, 'the turn in the transcript');
    expect(live.json).toMatchObject({ status: 'in-progress', transcript: [{ dtmf: '5', agent: 'Thanks, see you Friday.' }] });

    const ended = await call(agent, 'hang_up', { number_id: g.number.id, call_id: placed.json.callId });
    expect(ended.json).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    const result = await sipp.done;
    expect(result.code, result.stdout.slice(-2000) + result.stderr).toBe(0);
  });
});
