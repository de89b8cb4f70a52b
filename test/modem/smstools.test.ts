import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeWithTool } from '../helpers/system-tool.ts';
import { createVirtualNetwork, ptyAvailable, type VirtualNetwork } from '../../src/modem/index.ts';
import { waitForEvent } from '../fakes/wait.ts';

const SMSD = ['/usr/sbin/smsd', '/usr/bin/smsd'].find((p) => spawnSync(p, ['-V']).status !== null);

describeWithTool('an independent AT client (smstools) against the virtual modem', SMSD !== undefined && ptyAvailable(), 'smsd (Debian package smstools) and the native PTY addon', () => {
  let smsd: ChildProcess | undefined;
  let network: VirtualNetwork | undefined;
  let dir: string | undefined;
  afterEach(() => {
    smsd?.kill('SIGTERM');
    network?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('smsd sends a message through a virtual modem', async () => {
    const zero = { minMs: 0, maxMs: 0 };
    network = createVirtualNetwork({ submitLatency: zero, deliverLatency: zero, reportLatency: zero });
    const modem = network.addLine({ lineId: 'smsd', number: '+15550003333', dialect: 'generic' });
    dir = mkdtempSync(join(tmpdir(), 'agentphone-smsd-'));
    for (const sub of ['outgoing', 'checked', 'failed', 'sent', 'incoming']) mkdirSync(join(dir, sub));
    const conf = join(dir, 'smsd.conf');
    writeFileSync(
      conf,
      [
        'devices = GSM1',
        ...['outgoing', 'checked', 'failed', 'sent', 'incoming'].map((d) => `${d} = ${join(dir!, d)}`),
        `logfile = ${join(dir, 'smsd.log')}`,
        'loglevel = 7',
        `infofile = ${join(dir, 'smsd.working')}`,
        `pidfile = ${join(dir, 'smsd.pid')}`,
        'receive_before_send = no',
        '',
        '[GSM1]',
        `device = ${modem.path}`,
        'baudrate = 115200',
        'incoming = no',
        'report = no',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'outgoing', 'msg1'), 'To: 15551230000\n\nHello from smstools\n');
    const received = waitForEvent(network, 'inbox', (phone: string) => phone === '+15551230000');
    smsd = spawn(SMSD!, ['-c', conf, '-t'], { stdio: 'ignore' });
    await received;
    expect(network.inbox('+15551230000')[0]).toMatchObject({ from: '+15550003333', body: 'Hello from smstools' });
    expect(readFileSync(join(dir, 'smsd.log'), 'utf8')).toMatch(/Sent/i);
  }, 60_000);
});
