import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { VirtualNetwork } from '../../src/modem/index.ts';
import { cli } from '../helpers/cli.ts';
import { until } from '../helpers/wait.ts';
import { useWebhookGateway, type WebhookGatewayRig } from '../helpers/webhook-gateway.ts';

const SUBSCRIBER = '+15557654321';
const OURS = '+15550000001';
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' };

function inboxBodies(network: VirtualNetwork, count: number): Promise<string[]> {
  return until(() => {
    const inbox = network.inbox(SUBSCRIBER).filter((m) => m.complete);
    return inbox.length >= count && inbox.map((m) => m.body);
  }, 15_000, `${count} message(s) in the subscriber's inbox`);
}

/** Helpers over one rig (a test gateway with virtual modems, its first number's webhook on a loopback receiver). */
function helpers(rig: WebhookGatewayRig) {
  return {
    send: (body: string) => rig.gw.api(`/api/numbers/${rig.gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, body }) }),
    admin: (path: string, init: RequestInit = {}) => fetch(`${rig.gw.url}/admin${path}`, { ...init, headers: ADMIN }),
    outbound: () => rig.gw.core.messages.list(rig.gw.numberA, { direction: 'outbound', limit: 50 }),
    /** Waits for the nth message.inbound webhook: by then the keyword's effects are committed (same transaction). */
    inboundHooks: (n: number) => rig.receiver.waitFor(() => rig.receiver.events('message.inbound').length >= n),
  };
}

describe('opt-out compliance end to end (virtual subscriber, loopback webhook receiver)', () => {
  const rig = useWebhookGateway();
  const { send, admin, outbound, inboundHooks } = helpers(rig);

  it('STOP: delivered, confirmed once, evented, sends refused with 403; START: confirmed, sends work again', async () => {
    rig.gw.network!.text(SUBSCRIBER, OURS, 'Stop.');
    await rig.receiver.waitFor(() => rig.receiver.events('contact.opted_out').length === 1);
    // The STOP itself reaches the agent as a normal message.
    expect(rig.receiver.events('message.inbound')[0]!.json).toMatchObject({ from: SUBSCRIBER, to: OURS, body: 'Stop.' });
    const [event] = rig.receiver.events('contact.opted_out');
    const { signature, ...unsigned } = event!.json;
    expect(unsigned).toEqual({
      event: 'contact.opted_out',
      contact: SUBSCRIBER,
      number: OURS,
      number_id: rig.gw.numberA,
      source: 'keyword',
      keyword: 'STOP',
      actor: 'contact',
      message_id: rig.receiver.events('message.inbound')[0]!.json.message_id,
      timestamp: expect.any(String),
    });
    const secret = rig.gw.core.numbers.get(rig.gw.numberA).webhookSecret;
    expect(signature).toBe(createHmac('sha256', secret).update(JSON.stringify(unsigned)).digest('hex'));
    expect(event!.headers['x-agentphone-signature']).toBe(createHmac('sha256', secret).update(event!.raw).digest('hex'));

    const confirmation = rig.gw.core.config.compliance.optOut.confirmation;
    expect(await inboxBodies(rig.gw.network!, 1)).toEqual([confirmation]);
    // The confirmation is a normal, metered outbound message.
    expect((await outbound()).map((m) => m.body)).toEqual([confirmation]);
    const usage = async () => (await rig.gw.core.ledger.report(rig.gw.core.numbers.get(rig.gw.numberA), new Date().toISOString().slice(0, 7))).sms;
    expect((await usage()).outbound).toBe(1);

    // A second STOP changes nothing: no second confirmation, no second event.
    rig.gw.network!.text(SUBSCRIBER, OURS, 'STOP');
    await inboundHooks(2);
    expect(await outbound()).toHaveLength(1);

    const refused = await send('one more thing');
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: string; message: string };
    expect(Object.keys(body)).toEqual(['error', 'message']);
    expect(body.error).toBe('Forbidden');
    expect(body.message).toContain(SUBSCRIBER);
    expect(body.message).toContain(OURS);
    expect(body.message).toContain('"STOP"');
    expect(body.message).toContain((await rig.gw.core.optOuts.get(rig.gw.numberA, SUBSCRIBER))!.updatedAt);
    expect(await outbound()).toHaveLength(1);

    rig.gw.network!.text(SUBSCRIBER, OURS, 'start');
    await rig.receiver.waitFor(() => rig.receiver.events('contact.opted_in').length === 1);
    expect(rig.receiver.events('contact.opted_in')[0]!.json).toMatchObject({ contact: SUBSCRIBER, source: 'keyword', keyword: 'START' });
    expect(await inboxBodies(rig.gw.network!, 2)).toEqual([confirmation, rig.gw.core.config.compliance.optOut.optInConfirmation]);
    expect((await send('welcome back')).status).toBe(200);
    // The refused send was not metered: the two confirmations and this one.
    expect((await usage()).outbound).toBe(3);
    expect(await inboxBodies(rig.gw.network!, 3)).toContain('welcome back');
    expect(rig.receiver.events('contact.opted_out')).toHaveLength(1);

    // The audit log, as CSV, through the admin API.
    const csv = await (await admin(`/opt-outs/audit.csv?numberId=${rig.gw.numberA}`)).text();
    const rows = csv.trimEnd().split('\r\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['at', 'number_id', 'phone_number', 'contact', 'action', 'source', 'keyword', 'actor', 'note']);
    expect(rows.slice(1).map((r) => r.slice(1))).toEqual([
      [rig.gw.numberA, OURS, SUBSCRIBER, 'opt_out', 'keyword', 'STOP', 'contact', ''],
      [rig.gw.numberA, OURS, SUBSCRIBER, 'opt_in', 'keyword', 'START', 'contact', ''],
    ]);
  });

  it("a plain YES from a contact who never opted out is a message, not an opt-in", async () => {
    rig.gw.network!.text(SUBSCRIBER, OURS, 'yes');
    rig.gw.network!.text(SUBSCRIBER, OURS, 'STOP please');
    await inboundHooks(2);
    expect(await outbound()).toHaveLength(0);
    expect(await rig.gw.core.optOuts.get(rig.gw.numberA, SUBSCRIBER)).toBeUndefined();
    expect(rig.receiver.events('contact.opted_in')).toHaveLength(0);
  });

  it("refuses the agent's inline reply to STOP: stored failed with CONTACT_OPTED_OUT, reported as message.status failed", async () => {
    rig.receiver.answer = (hook) => (hook.json.event === 'message.inbound' ? { status: 200, body: { action: 'respond', reply: 'Sorry to see you go!' } } : { status: 200 });
    rig.gw.network!.text(SUBSCRIBER, OURS, 'UNSUBSCRIBE');
    await rig.receiver.waitFor(() => rig.receiver.events('message.status').some((h) => h.json.status === 'failed'));
    const failed = rig.receiver.events('message.status').find((h) => h.json.status === 'failed')!;
    expect(failed.json.error).toMatchObject({ code: 'CONTACT_OPTED_OUT', message: expect.stringContaining('"UNSUBSCRIBE"') });
    const reply = (await rig.gw.core.messages.get(failed.json.message_id as string))!;
    expect(reply).toMatchObject({ status: 'failed', body: 'Sorry to see you go!', errorCode: 'CONTACT_OPTED_OUT', segments: 0 });
    expect(reply.replyTo).toBe(rig.receiver.events('message.inbound')[0]!.headers['x-agentphone-delivery']);
    // Only the confirmation went out.
    expect(await inboxBodies(rig.gw.network!, 1)).toEqual([rig.gw.core.config.compliance.optOut.confirmation]);
  });

  it('admin API and CLI: add, list, refuse, remove, export', async () => {
    const added = await admin(`/numbers/${rig.gw.numberA}/opt-outs`, { method: 'POST', body: JSON.stringify({ contact: SUBSCRIBER, by: 'ops@acme', note: 'asked by email' }) });
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({ numberId: rig.gw.numberA, contact: SUBSCRIBER, state: 'opted_out', source: 'admin', keyword: null, actor: 'ops@acme' });
    // The GET reads the contact as POST and DELETE do: a + lost from the URL path still finds it.
    for (const contact of [encodeURIComponent(SUBSCRIBER), SUBSCRIBER.slice(1)]) {
      const got = await admin(`/numbers/${rig.gw.numberA}/opt-outs/${contact}`);
      expect(got.status).toBe(200);
      expect(await got.json()).toMatchObject({ contact: SUBSCRIBER, state: 'opted_out', actor: 'ops@acme' });
    }
    await rig.receiver.waitFor(() => rig.receiver.events('contact.opted_out').length === 1);
    expect(rig.receiver.events('contact.opted_out')[0]!.json).toMatchObject({ source: 'admin', actor: 'ops@acme', keyword: null, message_id: null });
    const refused = await send('hi');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toContain('an admin (ops@acme) opted them out');

    const env = { AGENTPHONE_ADMIN_TOKEN: 'test-admin-token-0123456789', AGENTPHONE_DATA_DIR: rig.gw.core.config.dataDir, USER: 'alice' };
    const u = ['--url', rig.gw.url];
    const list = await cli(['optout', 'list', ...u], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^NUMBER +CONTACT +STATE +SINCE +HOW\\n${rig.gw.numberA} +\\${SUBSCRIBER} +opted_out +\\S+ +admin \\(ops@acme\\)\\n$`));
    const removed = await cli(['optout', 'remove', '--number', rig.gw.numberA, '--contact', SUBSCRIBER, '--note', 'called back', ...u, '--json'], env);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ state: 'opted_in', source: 'admin', actor: 'cli:alice' });
    const again = await cli(['optout', 'remove', '--number', rig.gw.numberA, '--contact', SUBSCRIBER, ...u], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${SUBSCRIBER} is not opted out of ${OURS}`);
    expect((await send('hi again')).status).toBe(200);
    expect((await cli(['optout', 'list', ...u], env)).stdout).toBe('No contacts opted out.\n');
    expect((await cli(['optout', 'add', '--number', rig.gw.numberA, ...u], env)).code).toBe(2);

    const exported = await cli(['optout', 'export', '--number', rig.gw.numberA, ...u], env);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`,${rig.gw.numberA},\\${OURS},\\${SUBSCRIBER},opt_out,admin,,ops@acme,asked by email$`));
    expect(lines[2]).toMatch(new RegExp(`,${rig.gw.numberA},\\${OURS},\\${SUBSCRIBER},opt_in,admin,,cli:alice,called back$`));
    expect((await admin(`/numbers/${rig.gw.numberA}/opt-outs/${encodeURIComponent('+15550001111')}`)).status).toBe(404);
  });
});

describe("opt-out compliance with a number's own settings", () => {
  const rig = useWebhookGateway({ numbers: [{ line: 'virtual-1', optOut: { helpText: 'Acme support bot. Reply STOP to opt out.', confirmation: '' } }] });

  it("answers HELP with the number's own help text, and keeps answering HELP while opted out", async () => {
    rig.gw.network!.text(SUBSCRIBER, OURS, 'help');
    expect(await inboxBodies(rig.gw.network!, 1)).toEqual(['Acme support bot. Reply STOP to opt out.']);
    rig.gw.network!.text(SUBSCRIBER, OURS, 'quit');
    await rig.receiver.waitFor(() => rig.receiver.events('contact.opted_out').length === 1);
    rig.gw.network!.text(SUBSCRIBER, OURS, 'INFO');
    // No confirmation ('' turns it off), but HELP still answers.
    expect(await inboxBodies(rig.gw.network!, 2)).toEqual(['Acme support bot. Reply STOP to opt out.', 'Acme support bot. Reply STOP to opt out.']);
  });
});

describe('opt-out compliance turned off', () => {
  const rig = useWebhookGateway({ compliance: { optOut: { enabled: false } } });
  const { send, outbound, inboundHooks } = helpers(rig);

  it('with compliance.optOut.enabled false, STOP is a plain message', async () => {
    rig.gw.network!.text(SUBSCRIBER, OURS, 'STOP');
    await inboundHooks(1);
    expect(await outbound()).toHaveLength(0);
    expect((await send('still here')).status).toBe(200);
    expect(await inboxBodies(rig.gw.network!, 1)).toEqual(['still here']);
    expect(rig.receiver.events('contact.opted_out')).toHaveLength(0);
  });
});
