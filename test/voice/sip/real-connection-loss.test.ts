import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startDrachtio, type DrachtioServer } from '../../helpers/sip-peers.ts';
import { audioSdp, awaitByeAndConfirm, ringingCallee, sippRequest, writeScenario } from '../../helpers/sipp-scenarios.ts';
import { describeWithTool } from '../../helpers/system-tool.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';
import { until } from '../../helpers/wait.ts';
import { sippUnavailable, smallRtpRange, startSipGateway, startSipp, untilRtpPortsFree, useCleanup } from '../helpers/real-sip.ts';

/*
 * Losing the connection to drachtio-server, both ways it happens: the server dies (killed), or
 * the TCP link between the gateway and the server's admin port breaks while the server lives
 * on (a TCP proxy in between has its sockets destroyed). Calls end here at once and give their
 * RTP ports back; a ringing outbound INVITE settles as failed; where the server still knows the
 * dialog, the caller gets its BYE as soon as the gateway is connected again.
 */

const tempDir = useTempDir('agentphone-real-loss-');
const cleanup = useCleanup();

/** A TCP relay to drachtio's admin port whose connections the test can cut. */
async function adminProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    /** Breaks every open link at once (both directions), as a network fault would. */
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A caller with a normal offer that, once connected, waits for the gateway's BYE. */
const CALLER_AWAITING_BYE = (() => {
  const call = { user: '[service]', from: '15551234567', contact: 'caller', cseq: 1 };
  return `${sippRequest('INVITE', { ...call, retrans: true, sdp: audioSdp({ owner: 'caller', dtmf: true }) })}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"/>
${sippRequest('ACK', { ...call, inDialog: true })}${awaitByeAndConfirm()}`;
})();

/** A callee that rings (and tells the test) and never answers. */
const RINGING_CALLEE = `${ringingCallee()}  <recv request="CANCEL"/>`;

const missing = sippUnavailable();
describeWithTool('losing the drachtio-server connection', missing === undefined, missing ?? '', () => {
  async function setup(opts: { proxy?: boolean; trunkPort?: number } = {}) {
    const dir = tempDir();
    const server: DrachtioServer = await startDrachtio();
    cleanup.push(() => server.stop());
    const proxy = opts.proxy ? await adminProxy(server) : undefined;
    if (proxy) cleanup.push(() => proxy.close());
    const rtpPorts = smallRtpRange();
    const g = await startSipGateway({ server, dataDir: join(dir, 'data'), rtpPorts, ...(opts.trunkPort && { trunkPort: opts.trunkPort }), ...(proxy && { drachtio: proxy }) });
    cleanup.push(async () => {
      proxy?.cut(); // a gateway stopping on a dead link must not wait for it
      await g.stop();
    });
    return { dir, server, proxy, rtpPorts, ...g };
  }

  /** Waits for the call to end here; on a timeout the error shows the record and the link state. */
  async function ended(s: Awaited<ReturnType<typeof setup>>, callId: string) {
    try {
      return await until(async () => {
        const call = await s.gw.voice.calls.get(callId);
        return call?.endedAt ? call : undefined;
      }, 10_000, 'the call ended locally');
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${JSON.stringify({ call: await s.gw.voice.calls.get(callId), signaling: s.gw.voice.manager?.signalingStatus() })}`, { cause: err });
    }
  }

  async function connectedCall(s: Awaited<ReturnType<typeof setup>>) {
    const caller = await startSipp(s.dir, writeScenario(s.dir, 'caller', CALLER_AWAITING_BYE), [s.server.sip, '-s', s.number.phoneNumber.slice(1), '-timeout', '15s']);
    const call = await until(async () => (await s.gw.voice.calls.list(s.number.id, { limit: 1 })).find((c) => c.status === 'in-progress'), 10_000, 'the call answered');
    return { caller, callId: call.id };
  }

  it('TCP link to drachtio cut mid-call: the call ends here at once, and the caller gets its BYE once reconnected', async () => {
    const s = await setup({ proxy: true });
    const { caller, callId } = await connectedCall(s);
    s.proxy?.cut();
    expect(await ended(s, callId)).toMatchObject({ status: 'completed', endReason: 'signaling_lost' });
    await untilRtpPortsFree(s.rtpPorts);
    // drachtio-srf reconnects through the proxy; drachtio-server still holds the dialog.
    const result = await caller.done;
    expect(result.code, `the caller never got a BYE:\n${result.stdout.slice(-2000)}${result.stderr}`).toBe(0);
    expect(s.gw.voice.manager?.signalingStatus().connected).toBe(true);
    await s.hooks.waitFor(() => s.hooks.events('call.completed').length === 1);
    expect(s.hooks.events('call.completed')[0]?.json).toMatchObject({ call_id: callId, end_reason: 'signaling_lost' });
  });

  it('drachtio-server killed mid-call: the call ends here at once with its ports (the dialog died with the server)', async () => {
    const s = await setup();
    const { callId } = await connectedCall(s);
    await s.server.kill();
    expect(await ended(s, callId)).toMatchObject({ status: 'completed', endReason: 'signaling_lost', billableMinutes: 1 });
    expect(s.gw.voice.manager?.signalingStatus().connected).toBe(false);
    await untilRtpPortsFree(s.rtpPorts);
    await s.hooks.waitFor(() => s.hooks.events('call.completed').length === 1);
  });

  it('TCP link to drachtio cut while an outbound call rings: the call ends failed (signaling_lost) with its ports, and the callee gets its CANCEL once reconnected', async () => {
    const dir = tempDir();
    const callee = await startSipp(dir, writeScenario(dir, 'callee', RINGING_CALLEE), ['-timeout', '15s']);
    const s = await setup({ proxy: true, trunkPort: callee.port });
    const res = await s.gw.api(`/api/numbers/${s.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: '+15557654321' }) });
    const { callId } = (await res.json()) as { callId: string };
    await until(() => existsSync(join(dir, 'ringing.flag')), 10_000, 'the callee ringing');
    s.proxy?.cut();
    expect(await ended(s, callId)).toMatchObject({ status: 'failed', endReason: 'signaling_lost', sipStatus: null, answeredAt: null });
    await untilRtpPortsFree(s.rtpPorts);
    // drachtio-server still holds the INVITE transaction: the gateway's CANCEL goes out on reconnect.
    const result = await callee.done;
    expect(result.code, `the callee never got a CANCEL:\n${result.stdout.slice(-2000)}${result.stderr}`).toBe(0);
    expect(s.gw.voice.manager?.signalingStatus().connected).toBe(true);
    await s.hooks.waitFor(() => s.hooks.events('call.failed').length === 1);
    expect(await s.gw.voice.calls.get(callId)).toMatchObject({ status: 'failed' });
  });

  it('drachtio-server killed while an outbound call rings: the call ends failed (signaling_lost) and its ports are free', async () => {
    const dir = tempDir();
    const callee = await startSipp(dir, writeScenario(dir, 'callee', RINGING_CALLEE), ['-timeout', '10s']);
    const s = await setup({ trunkPort: callee.port });
    const res = await s.gw.api(`/api/numbers/${s.number.id}/calls`, { method: 'POST', body: JSON.stringify({ to: '+15557654321' }) });
    const { callId } = (await res.json()) as { callId: string };
    await until(() => existsSync(join(dir, 'ringing.flag')), 10_000, 'the callee ringing');
    await s.server.kill();
    expect(await ended(s, callId)).toMatchObject({ status: 'failed', endReason: 'signaling_lost', sipStatus: null, answeredAt: null });
    expect((await s.gw.voice.calls.get(callId))?.errorMessage).toMatch(/connection to the drachtio-server was lost/);
    await untilRtpPortsFree(s.rtpPorts);
    await s.hooks.waitFor(() => s.hooks.events('call.failed').length === 1);
    expect(s.hooks.events('call.failed')[0]?.json).toMatchObject({ call_id: callId, reason: 'signaling_lost', sip_status: null });
  });
});
