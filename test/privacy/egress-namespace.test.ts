import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';
import type { ScenarioResult } from './egress-scenario.ts';
import { drachtioUnavailable, onPath } from '../helpers/sip-peers.ts';
import { isLoopback, LISTEN, listeningPorts, parseStrace, unexpectedCalls, type SocketCall } from './strace-log.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** As root (CI) a plain network namespace; otherwise one inside a user namespace. */
const UNSHARE = process.getuid?.() === 0 ? ['--net'] : ['--net', '--map-root-user'];
const AVAILABLE = hasCommand('strace', ['-V']) && hasCommand('ip', ['-V']) && hasCommand('unshare', [...UNSHARE, 'true']);
/** tsx (which runs the sources) looks for its parent's IPC pipe; a local unix socket, no network. */
const TSX_IPC = /^"\/tmp\/tsx-\d+\/\d+\.pipe"$/;

interface Run {
  result: ScenarioResult;
  calls: SocketCall[];
  unexpected: SocketCall[];
}

/** Runs egress-scenario.ts in a fresh loopback-only namespace and reads what strace saw. */
function runScenario(dir: string, mode: 'full' | 'startup', env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const script = 'ip link set lo up && exec "$0" --import tsx test/privacy/egress-scenario.ts "$1" "$2"';
    const child = spawn('unshare', [...UNSHARE, '--', 'sh', '-c', script, process.execPath, dir, mode], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`scenario exited ${code}: ${output.slice(-3000)}`));
      const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as ScenarioResult;
      const calls = parseStrace(readFileSync(join(dir, 'gateway.strace'), 'utf8'));
      const listening = new Set([...listeningPorts(result.procNetTcp, LISTEN.tcp), ...listeningPorts(result.procNetUdp, LISTEN.udp)]);
      const unexpected = unexpectedCalls(calls, listening).filter((c) => !(c.family === 'unix' && TSX_IPC.test(c.address)));
      resolve({ result, calls, unexpected });
    });
  });
}

const shown = (calls: readonly SocketCall[]) => calls.map((c) => `${c.call} ${c.family} ${c.address}${c.port === undefined ? '' : `:${c.port}`}`);

describe('strace log reading', () => {
  const log = [
    '101 connect(19, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)',
    '101 connect(20, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH (Network is unreachable)',
    '102 connect(21, {sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr("127.0.0.1")}, 16 <unfinished ...>',
    '102 <... connect resumed>) = -1 EINPROGRESS (Operation now in progress)',
    '103 connect(22, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH',
    '104 sendmsg(19, {msg_name={sa_family=AF_INET, sin_port=htons(123), sin_addr=inet_addr("127.0.0.1")}, msg_namelen=16, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1}, 0) = 1',
    '104 bind(19, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
    '104 sendto(5, {{nlmsg_len=20, nlmsg_type=RTM_GETADDR}}, 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20',
  ].join('\n');

  it('finds every connect, datagram and bind with its address, and leaves netlink out', () => {
    expect(shown(parseStrace(log))).toEqual([
      'connect unix "/var/run/nscd/socket"',
      'connect inet 10.255.255.53:53',
      'connect inet 127.0.0.1:4000',
      'connect inet6 2001:db8::1:443',
      'sendmsg inet 127.0.0.1:123',
      'bind inet 0.0.0.0:0',
    ]);
  });

  it('flags name lookups, non-loopback addresses and loopback ports nobody listened on', () => {
    const listening = listeningPorts(['  sl  local_address rem_address   st\n   0: 0100007F:0FA0 00000000:0000 0A 00000000:00000000\n   1: 0100007F:0FA1 0100007F:1234 01 00000000:00000000\n']);
    expect([...listening]).toEqual([4000]);
    expect(shown(unexpectedCalls(parseStrace(log), listening))).toEqual(['connect unix "/var/run/nscd/socket"', 'connect inet 10.255.255.53:53', 'connect inet6 2001:db8::1:443', 'sendmsg inet 127.0.0.1:123']);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
  });
});

describeWithTool('the whole gateway in a loopback-only network namespace, every connection it makes watched by strace', AVAILABLE, 'strace, iproute2 and unshare (util-linux) with network namespaces', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentphone-privacy-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('connects only to the loopback listeners its configuration names, looks up no name, and its dashboard loads nothing from elsewhere', async () => {
    const { result, calls, unexpected } = await runScenario(tempDir(), 'full');
    expect(result.flows.filter((f) => !f.ok)).toEqual([]);
    expect(result.flows.map((f) => f.name)).toEqual([
      'sms in, webhook out',
      'sms out',
      'mms in (virtual MMSC), webhook with media URL',
      'mms out (agent media URL fetched, posted to the virtual MMSC)',
      'chat through the upstream engine',
      'local chat (tiny qwen3)',
      'speech (tiny orpheus + snac)',
      'transcription (tiny whisper)',
      'webhook test event',
      ...(result.voice === 'ran' ? ['call in (sipp through drachtio), greeting spoken over RTP'] : []),
    ]);
    // The voice part needs drachtio-server and sipp; where both can run it must have run.
    if (drachtioUnavailable() === undefined && onPath('sipp')) expect(result.voice).toBe('ran');
    // The call's RTP (from the media worker thread) was watched too: datagrams to sipp's bound media port.
    if (result.voice === 'ran') expect(calls.filter((c) => (c.call === 'sendmsg' || c.call === 'sendto') && isLoopback(c.address)).length).toBeGreaterThan(10);
    // Nothing but loopback listeners: no DNS (resolver or nscd), no NTP, no telemetry, no update checks.
    expect(shown(unexpected)).toEqual([]);
    // The watched process did make the configured connections: webhooks, media URL, upstream engine, virtual MMSC.
    const gatewayPort = Number(new URL(result.gatewayUrl).port);
    const reached = new Set(calls.filter((c) => c.call === 'connect' && isLoopback(c.address)).map((c) => c.port));
    for (const port of [result.listeners.receiver, result.listeners.media, result.listeners.upstream]) expect(reached).toContain(port);
    const own = new Set([gatewayPort, ...Object.values(result.listeners)]);
    expect([...reached].filter((p) => p !== undefined && !own.has(p)).length).toBeGreaterThanOrEqual(1);
    expect(result.hits.receiver).toBeGreaterThanOrEqual(3);
    if (hasCommand('/usr/bin/chromium')) {
      expect(result.browser).toBe('ran');
      const origin = new URL(result.gatewayUrl).origin;
      expect(result.pageRequests.length).toBeGreaterThan(5);
      expect(result.pageRequests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    }
  }, 400_000);

  it('catches a connection nobody configured: AGENTPHONE_TEST_EXTRA_CONNECT makes the gateway open one and the watcher reports it', async () => {
    const { unexpected } = await runScenario(tempDir(), 'startup', { AGENTPHONE_TEST_EXTRA_CONNECT: '203.0.113.9:443' });
    expect(shown(unexpected)).toEqual(['connect inet 203.0.113.9:443']);
  }, 200_000);
});
