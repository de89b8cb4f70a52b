import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { createCore, type Core } from '../../src/core.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { OutboundDispatcher, type SmsTransport } from '../../src/messaging/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { RECIPIENTS, rig, type Rig } from './modem-rig.ts';

const METRIC = 'agentphone_sms_parts_resubmitted_after_restart_total';

describe('a crash while a part is on the AT port', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('commits a part as submitting before its AT+CMGS reaches the modem', async () => {
    const r: Rig = await rig(tempDir());
    cleanups.push(() => r.stop());
    const committed = new Database(r.dbFile, { readonly: true });
    cleanups.push(() => void committed.close());
    const submittingAtCmgs: string[][] = [];
    r.network.line('line-1').on('command', (line) => {
      if (!line.toUpperCase().startsWith('AT+CMGS=')) return;
      // What a process killed at this instant would leave in the file.
      const rows = committed.prepare(`SELECT message_id FROM message_parts WHERE status = 'submitting'`).all() as { message_id: string }[];
      submittingAtCmgs.push(rows.map((row) => row.message_id));
    });
    const ids = [await r.send(RECIPIENTS[0]!, 'one'), await r.send(RECIPIENTS[1]!, 'two'), await r.send(RECIPIENTS[2]!, 'three')];
    await until(() => ids.every((id) => ['sent', 'delivered'].includes(r.core.messages.get(id)!.status)), 15_000, 'all sent');
    expect(submittingAtCmgs).toEqual(ids.map((id) => [id]));
    // Accepted: submitting gave way to sent (or delivered) with the modem's TP-MR.
    expect(ids.map((id) => r.core.messages.parts(id)[0]!.mr)).toEqual([0, 1, 2]);
  }, 60_000);

  it('after a restart resends a part left submitting (at least once), marks it and counts it; a part left sending goes back in line uncounted', async () => {
    const dataDir = tempDir();
    const config = validateConfig({ dataDir, adminToken: 'test-admin-token-0123456789', log: { level: 'silent' } });

    // The first process: two parts handed to the line; one of them had its AT+CMGS written.
    const before: Core = createCore(config, silentLogger());
    before.numbers.lineFound('line-1', '+15550000001');
    const numberId = before.numbers.list()[0]!.id;
    const principal = before.apiKeys.authenticate(before.apiKeys.create({ name: 'test' }).key)!;
    const onPort = (await before.send.send(principal, numberId, { to: RECIPIENTS[0], body: 'on the AT port at the kill' })).response.messageId;
    const waiting = (await before.send.send(principal, numberId, { to: RECIPIENTS[1], body: 'waiting in the line queue' })).response.messageId;
    expect(before.messages.claimDueParts('line-1', Date.now() + 1, 10)).toHaveLength(2);
    before.messages.markPartSubmitting(onPort, 1);
    before.close(); // nothing after this point reaches the file: +CMGS never came back

    // The next process, on the same file.
    const after: Core = createCore(config, silentLogger());
    cleanups.push(() => after.close());
    const sent: string[] = [];
    const transport: SmsTransport = {
      readyLines: () => ['line-1'],
      sendPdu: async (_lineId, pdu, hooks) => {
        hooks?.onSubmitting?.();
        sent.push(pdu.hex);
        return { messageRef: sent.length };
      },
    };
    const dispatcher = new OutboundDispatcher({
      db: after.db,
      messages: after.messages,
      transport,
      tracker: after.tracker,
      webhooks: after.webhooks,
      clock: after.clock,
      logger: silentLogger(),
      metrics: after.metrics,
    });
    cleanups.push(() => dispatcher.stop(100));
    dispatcher.start();
    await until(() => [onPort, waiting].every((id) => after.messages.get(id)!.status === 'sent'), 15_000, 'both sent');

    // Each part went out once from this process; the interrupted one is marked as possibly twice.
    expect(sent.sort()).toEqual([after.messages.parts(onPort)[0]!.pdu, after.messages.parts(waiting)[0]!.pdu].sort());
    expect(after.messages.parts(onPort)[0]).toMatchObject({ status: 'sent', resubmittedAfterRestart: 1 });
    expect(after.messages.parts(waiting)[0]).toMatchObject({ status: 'sent', resubmittedAfterRestart: 0 });
    expect(await after.metrics.getSingleMetricAsString(METRIC)).toContain(`${METRIC} 1`);
  }, 30_000);
});
