import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationUri } from '../../src/mcp/index.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { call, connect, httpTransport, initialize, suiteDir } from './mcp-client.ts';

const PHONE = '+15557770001';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const TOOLS = ['list_numbers', 'send_sms', 'list_conversations', 'read_conversation', 'wait_for_reply', 'place_call', 'get_call', 'hang_up', 'transcribe', 'get_usage'];

interface NumberView {
  id: string;
  phoneNumber: string;
}

describe('MCP over Streamable HTTP at /mcp (SDK client, whole gateway on loopback)', () => {
  const data = suiteDir();
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let agent: Client;
  let numberA: NumberView;

  /** The virtual subscriber texts a number, through the admin sim API. */
  const phoneTexts = async (to: string, body: string) => {
    const res = await fetch(`${gw.url}/admin/sim/text`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: PHONE, to, body }),
    });
    expect(res.status).toBe(202);
  };

  beforeAll(async () => {
    gw = await startTestGateway(data.dir);
    agent = await connect(httpTransport(gw.url, gw.key));
    numberA = gw.core.numbers.get(gw.numberA);
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await gw?.stop();
    data.remove();
  });

  it('answers 401 in the API error shape without a key, with an unknown key, and with the admin token', async () => {
    for (const key of [undefined, 'agp_00000000000000000000000000000000000000000000', ADMIN_TOKEN]) {
      const res = await initialize(gw.url, key);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'Unauthorized', message: 'Invalid or missing API key' });
    }
  });

  it('refuses a request without a session id that is not initialize, and an unknown session id', async () => {
    const headers = { authorization: `Bearer ${gw.key}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const bare = await fetch(`${gw.url}/mcp`, { method: 'POST', headers, body: list });
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as { message: string }).message).toMatch(/mcp-session-id/);
    const unknown = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': 'no-such-session' }, body: list });
    expect(unknown.status).toBe(404);
  });

  it('lists every tool with a JSON schema for its arguments', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());
    const send = tools.find((t) => t.name === 'send_sms');
    expect(send?.inputSchema).toMatchObject({ type: 'object', required: expect.arrayContaining(['number_id', 'to']) });
    expect(Object.keys(send?.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['body', 'media', 'idempotency_key']));
  });

  it('runs an agent script: sends, waits for the phone to reply, and reads the thread', async () => {
    const numbers = await call<{ numbers: NumberView[] }>(agent, 'list_numbers');
    expect(numbers.json.numbers.map((n) => n.id)).toEqual(expect.arrayContaining([gw.numberA, gw.numberB]));

    const sent = await call<{ messageId: string; status: string }>(agent, 'send_sms', { number_id: gw.numberA, to: PHONE, body: 'Can you make 3pm?' });
    expect(sent).toMatchObject({ isError: false, json: { status: 'queued', to: PHONE } });
    // The agent blocks in wait_for_reply while the phone gets the text and answers it.
    const waiting = call<{ timed_out: boolean; reply: { body: string; from: string; direction: string } }>(agent, 'wait_for_reply', {
      number_id: gw.numberA,
      contact: PHONE,
      after_message_id: sent.json.messageId,
      timeout_seconds: 60,
    });
    await until(() => gw.network!.inbox(PHONE).some((m) => m.body === 'Can you make 3pm?'), 15_000, 'the text at the phone');
    await phoneTexts(numberA.phoneNumber, 'Yes, 3pm works');
    const reply = await waiting;
    expect(reply).toMatchObject({ isError: false, json: { timed_out: false, reply: { body: 'Yes, 3pm works', from: PHONE, direction: 'inbound' } } });

    const thread = await call<{ contact: string; entries: Array<{ body?: string }> }>(agent, 'read_conversation', { number_id: gw.numberA, contact: PHONE });
    expect(thread.isError).toBe(false);
    expect(thread.json.contact).toBe(PHONE);
    expect(JSON.stringify(thread.json.entries)).toContain('Can you make 3pm?');
    expect(JSON.stringify(thread.json.entries)).toContain('Yes, 3pm works');
    const list = await call<{ conversations: Array<{ contact: string; unread_count: number }> }>(agent, 'list_conversations', { number_id: gw.numberA });
    expect(list.json.conversations.find((c) => c.contact === PHONE)).toMatchObject({ unread_count: 1 });
    await call(agent, 'read_conversation', { number_id: gw.numberA, contact: PHONE, mark_read: true });
    const after = await call<{ conversations: Array<{ contact: string; unread_count: number }> }>(agent, 'list_conversations', { number_id: gw.numberA });
    expect(after.json.conversations.find((c) => c.contact === PHONE)).toMatchObject({ unread_count: 0 });
  });

  it('returns a reply that came in before wait_for_reply was called, when after_message_id says where to look from', async () => {
    const sent = await call<{ messageId: string }>(agent, 'send_sms', { number_id: gw.numberA, to: '+15557770002', body: 'ping' });
    await until(() => gw.network!.inbox('+15557770002').length > 0, 15_000, 'the text at the phone');
    const res = await fetch(`${gw.url}/admin/sim/text`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557770002', to: numberA.phoneNumber, body: 'pong' }),
    });
    expect(res.status).toBe(202);
    await until(async () => (await gw.core.messages.list(gw.numberA, { direction: 'inbound', contact: '+15557770002', limit: 1 })).length === 1, 15_000, 'the reply stored');
    const reply = await call(agent, 'wait_for_reply', { number_id: gw.numberA, contact: '+15557770002', after_message_id: sent.json.messageId });
    expect(reply.json).toMatchObject({ timed_out: false, reply: { body: 'pong' } });
  });

  it('sends progress while wait_for_reply waits, so a client that resets its request timeout on progress keeps waiting past it', async () => {
    const progress: number[] = [];
    // The request timeout (2.5 s) is shorter than the wait (3 s): only the progress keeps it open.
    const res = await agent.callTool({ name: 'wait_for_reply', arguments: { number_id: gw.numberA, contact: '+15557770010', timeout_seconds: 3 } }, undefined, {
      timeout: 2500,
      resetTimeoutOnProgress: true,
      onprogress: (p) => void progress.push(p.progress),
    });
    expect(JSON.parse((res.content as Array<{ text: string }>)[0]?.text ?? '')).toEqual({ timed_out: true, reply: null });
    expect(progress.length).toBeGreaterThan(0);
  });

  it('makes send_sms idempotent through idempotency_key, and refuses the same key with other arguments', async () => {
    const args = { number_id: gw.numberA, to: '+15557770003', body: 'once only', idempotency_key: 'order-42' };
    const first = await call<{ messageId: string; replayed: boolean }>(agent, 'send_sms', args);
    const again = await call<{ messageId: string; replayed: boolean }>(agent, 'send_sms', args);
    expect(first.json.replayed).toBe(false);
    expect(again.json).toEqual({ ...first.json, replayed: true });
    expect(await gw.core.messages.list(gw.numberA, { contact: '+15557770003', limit: 10 })).toHaveLength(1);
    const other = await call<{ error: string; message: string }>(agent, 'send_sms', { ...args, body: 'something else' });
    expect(other).toMatchObject({ isError: true, json: { error: 'Bad Request', code: 'VALIDATION' } });
    expect(other.json.message).toMatch(/already used with a different request/);
  });

  it('refuses send_sms to a contact who texted STOP with the send service’s CONTACT_OPTED_OUT', async () => {
    const phone = '+15557770009';
    await fetch(`${gw.url}/admin/sim/text`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: phone, to: numberA.phoneNumber, body: 'STOP' }),
    });
    // The STOP's confirmation reaching the phone says the opt-out is recorded.
    await until(() => gw.network!.inbox(phone).some((m) => /unsubscribed/i.test(m.body)), 15_000, 'the opt-out confirmation');
    const refused = await call<{ message: string }>(agent, 'send_sms', { number_id: gw.numberA, to: phone, body: 'one more offer' });
    expect(refused).toMatchObject({ isError: true, json: { error: 'Forbidden', code: 'CONTACT_OPTED_OUT' } });
    expect(refused.json.message).toMatch(/opted out/);
    expect((await gw.core.messages.list(gw.numberA, { direction: 'outbound', contact: phone, limit: 10 })).map((m) => m.body)).not.toContain('one more offer');
  });

  it('answers a bad argument with an isError result naming the field, as the REST API does', async () => {
    const bad = await call<{ error: string; message: string; code: string }>(agent, 'send_sms', { number_id: gw.numberA, to: '5551234', body: 'x' });
    expect(bad).toMatchObject({ isError: true, json: { error: 'Bad Request', code: 'VALIDATION' } });
    expect(bad.json.message).toMatch(/^to: /);
    const month = await call(agent, 'get_usage', { number_id: gw.numberA, month: '2026-13' });
    expect(month).toMatchObject({ isError: true, json: { message: 'month: must be YYYY-MM' } });
  });

  it('get_usage reports the number’s metered segments', async () => {
    const usage = await call<{ numberId: string; sms: { outbound: number; inbound: number } }>(agent, 'get_usage', { number_id: gw.numberA });
    expect(usage.isError).toBe(false);
    expect(usage.json.numberId).toBe(gw.numberA);
    expect(usage.json.sms.outbound).toBeGreaterThanOrEqual(3);
    expect(usage.json.sms.inbound).toBeGreaterThanOrEqual(2);
  });

  it('holds a key scoped to number A to A in every tool and resource, as for a number that does not exist', async () => {
    const scoped = (await gw.core.apiKeys.create({ name: 'scoped', numberIds: [gw.numberA] })).key;
    const client = await connect(httpTransport(gw.url, scoped));
    try {
      const list = await call<{ numbers: NumberView[] }>(client, 'list_numbers');
      expect(list.json.numbers.map((n) => n.id)).toEqual([gw.numberA]);
      const fromB = await call<{ error: string; message: string }>(client, 'send_sms', { number_id: gw.numberB, to: PHONE, body: 'not mine' });
      const missing = await call<{ error: string; message: string }>(client, 'send_sms', { number_id: 'num_doesnotexist', to: PHONE, body: 'x' });
      expect(fromB).toMatchObject({ isError: true, json: { error: 'Not Found' } });
      expect(fromB.json.message.replace(gw.numberB, 'X')).toBe(missing.json.message.replace('num_doesnotexist', 'X'));
      expect(await gw.core.messages.list(gw.numberB, { contact: PHONE, limit: 5 })).toHaveLength(0);
      for (const [name, args] of [
        ['read_conversation', { number_id: gw.numberB, contact: PHONE }],
        ['wait_for_reply', { number_id: gw.numberB, contact: PHONE, timeout_seconds: 1 }],
        ['get_usage', { number_id: gw.numberB }],
        ['place_call', { number_id: gw.numberB, to: PHONE }],
      ] as const) {
        expect(await call(client, name, args), name).toMatchObject({ isError: true, json: { error: 'Not Found' } });
      }
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).not.toContain(`agentphone://numbers/${gw.numberB}`);
      await expect(client.readResource({ uri: `agentphone://numbers/${gw.numberB}` })).rejects.toThrow(/not found/i);
      await expect(client.subscribeResource({ uri: conversationUri(gw.numberB, PHONE) })).rejects.toThrow(/not found/i);
      // A session answers only the key that opened it.
    } finally {
      await client.close();
    }
  });

  it('serves numbers and conversations as resources and notifies a subscriber when a message is sent or arrives', async () => {
    const { resources } = await agent.listResources();
    expect(resources.map((r) => r.uri)).toContain(`agentphone://numbers/${gw.numberA}`);
    const number = await agent.readResource({ uri: `agentphone://numbers/${gw.numberA}` });
    expect(JSON.parse((number.contents[0] as { text: string }).text)).toMatchObject({ id: gw.numberA, phoneNumber: numberA.phoneNumber });

    const uri = conversationUri(gw.numberA, '+15557770004');
    const updated: string[] = [];
    agent.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
    await agent.subscribeResource({ uri });
    await call(agent, 'send_sms', { number_id: gw.numberA, to: '+15557770004', body: 'subscribed?' });
    await until(() => updated.includes(uri), 15_000, 'resources/updated for the sent message');

    // A conversation only the phone writes to: its notification can only come from the reply.
    const inboundUri = conversationUri(gw.numberA, '+15557770005');
    await agent.subscribeResource({ uri: inboundUri });
    await fetch(`${gw.url}/admin/sim/text`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557770005', to: numberA.phoneNumber, body: 'hello from the phone' }),
    });
    await until(() => updated.includes(inboundUri), 15_000, 'resources/updated for the inbound message');
    const thread = await agent.readResource({ uri: inboundUri });
    expect((thread.contents[0] as { text: string }).text).toContain('hello from the phone');
    await agent.unsubscribeResource({ uri: inboundUri });
    await agent.unsubscribeResource({ uri });
  });
});
