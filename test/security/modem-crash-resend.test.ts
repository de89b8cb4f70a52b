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
    await until(async () => (await Promise.all(ids.map((id) => r.core.messages.get(id)))).every((m) => ['sent', 'delivered'].includes(m!.status)), 15_000, 'all sent');
    expect(submittingAtCmgs).toEqual(ids.map((id) => [id]));
    // Accepted: submitting gave way to sent (or delivered) with the modem's TP-MR.
    expect((await Promise.all(ids.map((id) => r.core.messages.parts(id)))).map((parts) => parts[0]!.mr)).toEqual([0, 1, 2]);
  }, 60_000);

  it('after a restart resends a part left submitting (at least once), marks it and counts it; a part left sending goes back in line uncounted', async () => {
    const dataDir = tempDir();
    const config = validateConfig({ dataDir, adminToken: 'test-admin-token-0123456789', log: { level: 'silent' } });

    // The first process: two parts handed to the line; one of them had its AT+CMGS written.
    const before: Core = await createCore(config, silentLogger());
    await before.numbers.lineFound('line-1', '+15550000001');
    const numberId = (await before.numbers.list())[0]!.id;
    const principal = (await before.apiKeys.authenticate((await before.apiKeys.create({ name: 'test' })).key))!;
    const onPort = (await before.send.send(principal, numberId, { to: RECIPIENTS[0], body: 'on the AT port at the kill' })).response.messageId;
    const waiting = (await before.send.send(principal, numberId, { to: RECIPIENTS[1], body: 'waiting in the line queue' })).response.messageId;
    expect(await before.messages.claimDueParts('line-1', Date.now() + 1, 10)).toHaveLength(2);
    await before.messages.markPartSubmitting(onPort, 1);
    await before.close(); // nothing after this point reaches the file: +CMGS never came back

    // The next process, on the same file.
    const after: Core = await createCore(config, silentLogger());
    cleanups.push(() => after.close());
    const sent: string[] = [];
    const transport: SmsTransport = {
      readyLines: () => ['line-1'],
      sendPdu: async (_lineId, pdu, hooks) => {
        await hooks?.onSubmitting?.();
        sent.push(pdu.hex);
        return { messageRef: sent.length };
      },
    };
    const dispatcher = new OutboundDispatcher({
      store: after.store,
      messages: after.messages,
      transport,
      tracker: after.tracker,
      webhooks: after.webhooks,
      clock: after.clock,
      logger: silentLogger(),
      metrics: after.metrics,
    });
    cleanups.push(() => dispatcher.stop(100));
    await dispatcher.start();
    await until(async () => (await Promise.all([onPort, waiting].map((id) => after.messages.get(id)))).every((m) => m!.status === 'sent'), 15_000, 'both sent');

    // Each part went out once from this process; the interrupted one is marked as possibly twice.
    const [onPortPart] = await after.messages.parts(onPort);
    const [waitingPart] = await after.messages.parts(waiting);
    expect(sent.sort()).toEqual([onPortPart!.pdu, waitingPart!.pdu].sort());
    expect(onPortPart).toMatchObject({ status: 'sent', resubmittedAfterRestart: 1 });
    expect(waitingPart).toMatchObject({ status: 'sent', resubmittedAfterRestart: 0 });
    expect(await after.metrics.getSingleMetricAsString(METRIC)).toContain(`${METRIC} 1`);
  }, 30_000);
});
