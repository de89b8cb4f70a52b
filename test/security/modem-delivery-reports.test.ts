import { afterEach, describe, expect, it } from 'vitest';
import { sameRecipient } from '../../src/messaging/index.ts';
import { decodePdu, encodeStatusReport, type DecodedStatusReport } from '../../src/sms/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { LINE, RECIPIENTS, rig, type Rig } from './modem-rig.ts';

function report(o: { mr: number; to: string; receivedAt: Date; status?: number }): DecodedStatusReport {
  const decoded = decodePdu(encodeStatusReport({ messageRef: o.mr, recipient: o.to, scts: o.receivedAt, discharge: o.receivedAt, status: o.status ?? 0 }), {
    hasSmsc: true,
  });
  if (decoded.type !== 'status-report') throw new Error('not a status report');
  return decoded;
}

describe('delivery reports reach the message they are about', () => {
  const tempDir = useTempDir();
  let current: Rig | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });

  it('credits every report to its own message when 300 sends wrap TP-MR and the reports come late, newest first', async () => {
    const r = (current = await rig(tempDir()));
    r.network.faults.holdReports = true;
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push(await r.send(RECIPIENTS[i % RECIPIENTS.length]!, `message ${i}`));
    // Every part sent (MRs 0–255, then 0–43 again) before a single report comes back.
    await until(async () => (await Promise.all(ids.map((id) => r.core.messages.get(id)))).every((m) => m?.status === 'sent'), 60_000, 'all 300 sent');
    const modem = r.network.line(LINE);
    let reportsIn = 0;
    r.network.on('delivered', ({ kind }) => {
      if (kind === 'status-report') reportsIn++;
    });
    // A report is generated a moment after the +CMGS the sender reads as 'sent'.
    await until(() => r.network.heldReportCount === 300, 10_000, 'all 300 reports held by the network');
    expect(r.network.releaseHeldReports()).toBe(300);
    // All 300 reach the modem (its 30 report slots fill and free again) and are read and deleted.
    await until(() => reportsIn === 300 && modem.store.used('SR') === 0, 60_000, 'every report read off the modem');
    const statuses = (await Promise.all(ids.map((id) => r.core.messages.get(id)))).map((m) => m!.status);
    expect(statuses.filter((s) => s !== 'delivered')).toEqual([]);
    // Each announced report was read where it was announced, none looked for in vain.
    expect(r.warnings.filter((w) => w === 'announced message not found in any storage')).toEqual([]);
  }, 120_000);

  it('matches on recipient and send time: a part whose report was lost long ago or went to someone else takes no credit', async () => {
    const r = (current = await rig(tempDir()));
    const { core } = r;
    const statusesOf = async (ids: Array<string | undefined>) => (await Promise.all(ids.map((id) => core.messages.get(id!)))).map((m) => m?.status);
    r.network.faults.holdReports = true;
    const now = Date.now();
    const sentAt = (msAgo: number) => new Date(now - msAgo).toISOString();
    // Three parts on the line that all got TP-MR 5 from the modem, to the same subscriber:
    // one two days ago whose report never came, one ten seconds ago, and one just now (MR wrapped).
    const [lost, earlier, latest, other] = [
      await r.send(RECIPIENTS[0]!, 'lost report'),
      await r.send(RECIPIENTS[0]!, 'earlier'),
      await r.send(RECIPIENTS[0]!, 'latest'),
      await r.send(RECIPIENTS[1]!, 'someone else'),
    ];
    await until(async () => (await statusesOf([lost, earlier, latest, other])).every((s) => s === 'sent'), 15_000, 'sent');
    const setSent = (id: string, msAgo: number) => core.messages.markPartSent(id!, 1, 5, sentAt(msAgo));
    await setSent(lost!, 2 * 24 * 3600_000);
    await setSent(earlier!, 10_000);
    await setSent(latest!, 0);
    await setSent(other!, 5_000);

    // The service centre got "earlier" ten seconds ago; its report comes after the MR was reused.
    await r.outbound.onStatusReport(LINE, report({ mr: 5, to: RECIPIENTS[0]!, receivedAt: new Date(now - 10_000) }));
    expect(await statusesOf([lost, earlier, latest, other])).toEqual(['sent', 'delivered', 'sent', 'sent']);

    // A report with that MR for a recipient none of these parts went to credits nothing.
    await r.outbound.onStatusReport(LINE, report({ mr: 5, to: '+15559999999', receivedAt: new Date(now) }));
    expect(await statusesOf([lost, latest, other])).toEqual(['sent', 'sent', 'sent']);

    // A failure report for the other recipient lands on its part only.
    await r.outbound.onStatusReport(LINE, report({ mr: 5, to: RECIPIENTS[1]!, receivedAt: new Date(now - 5_000), status: 0x41 }));
    expect(await statusesOf([lost, latest, other])).toEqual(['sent', 'sent', 'failed']);

    // Then the latest one's report: the lost one, outside the window, is still not credited.
    await r.outbound.onStatusReport(LINE, report({ mr: 5, to: RECIPIENTS[0]!, receivedAt: new Date(now) }));
    expect(await statusesOf([lost, latest])).toEqual(['sent', 'delivered']);
  }, 60_000);

  it('takes TP-RA as the same recipient in international or national form, nothing else', () => {
    const ours = '+447911123456';
    expect(['+447911123456', '447911123456', '07911123456', '7911123456'].map((ra) => sameRecipient(ours, ra))).toEqual([true, true, true, true]);
    expect(['+17911123456', '+447911123457', '123', '', 'VODAFONE', '+7911123456'].map((ra) => sameRecipient(ours, ra))).toEqual([false, false, false, false, false, false]);
  });
});
