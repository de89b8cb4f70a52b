import { afterEach, beforeEach, expect, it } from 'vitest';
import { LeasesRepository } from '../../src/cluster/index.ts';
import { CallsRepository, openPostgresStore, type CallRecord, type CallStatus, type Database, type SqlStore } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const NUMBER = 'num_1';

function call(id: string, over: Partial<CallRecord> = {}) {
  return {
    id,
    numberId: NUMBER,
    direction: 'outbound' as const,
    contact: '+15557654321',
    status: 'queued' as const,
    sipCallId: null,
    greeting: null,
    instructions: null,
    apiKeyId: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    ...over,
  };
}

const ending = (id: string, status: CallStatus = 'completed') => ({
  id,
  status,
  endReason: 'api_hangup',
  sipStatus: 487,
  errorMessage: null,
  durationMs: null,
  billableMinutes: 0,
  endedAt: '2026-12-01T00:00:01.000Z',
});

const turn = (text: string, reply: string | null = null) => ({ callerText: text, dtmf: null, action: 'respond', agentReply: reply, createdAt: '2026-12-01T00:00:02.000Z' });

describeOnEachDialect('calls repository', (open) => {
  let t: TestStore;
  let calls: CallsRepository;
  beforeEach(async () => {
    t = await open();
    await t.store.db
      .insertInto('numbers')
      .values({ id: NUMBER, phone_number: '+15550000001', webhook_secret: 's', created_at: 'now', updated_at: 'now' })
      .execute();
    calls = new CallsRepository(t.store.db);
  });
  afterEach(() => t.close());

  it.each<CallStatus>(['completed', 'failed', 'canceled', 'refused'])('never changes a %s call again (status, answer, SIP call id, turns)', async (final) => {
    const inserted = await calls.insert(call('call_1'));
    expect(inserted).toMatchObject({ id: 'call_1', status: 'queued', turns: 0, billableMinutes: 0, endedAt: null });
    expect(await calls.setStatus('call_1', 'ringing')).toBe(true);
    expect(await calls.end(ending('call_1', final))).toBe(true);
    const ended = await calls.get('call_1');
    // What a late 200, a late provisional or a turn racing the hangup would write:
    expect(await calls.setStatus('call_1', 'ringing')).toBe(false);
    expect(await calls.markAnswered('call_1', '2026-12-01T00:00:02.000Z')).toBe(false);
    expect(await calls.setSipCallId('call_1', 'late@host')).toBe(false);
    expect(await calls.addTurn('call_1', turn('hi'))).toBe(false);
    expect(await calls.lockLive('call_1')).toBeUndefined();
    expect(await calls.end({ ...ending('call_1'), endReason: 'remote_hangup' })).toBe(false);
    expect(await calls.get('call_1')).toEqual(ended);
    expect(await calls.turns('call_1')).toEqual([]);
  });

  it('numbers turns in order, counts them, and marks the latest reply heard in part', async () => {
    await calls.insert(call('call_1'));
    expect(await calls.markAnswered('call_1', '2026-12-01T00:00:01.000Z')).toBe(true);
    expect(await calls.addTurn('call_1', turn('one', 'reply one'))).toBe(true);
    expect(await calls.addTurn('call_1', turn('two', 'reply two'))).toBe(true);
    expect(await calls.addTurn('call_1', turn('three'))).toBe(true);
    await calls.setHeardFraction('call_1', 0.25);
    expect((await calls.turns('call_1')).map((x) => [x.seq, x.callerText, x.heardFraction])).toEqual([
      [1, 'one', null],
      [2, 'two', 0.25],
      [3, 'three', null],
    ]);
    expect(await calls.get('call_1')).toMatchObject({ status: 'in-progress', turns: 3, answeredAt: '2026-12-01T00:00:01.000Z' });
    expect((await calls.lockLive('call_1'))?.status).toBe('in-progress');
  });

  it('ends a call exactly once when many ends race (each in its own transaction)', async () => {
    await calls.insert(call('call_1'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.store.tx(async (tx) => {
          const repo = new CallsRepository(tx);
          if (!(await repo.lockLive('call_1'))) return false;
          return repo.end({ ...ending('call_1'), endReason: `end_${i}` });
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps every turn of concurrent writers (each addTurn in a transaction), numbered 1..n with no gap', async () => {
    await calls.insert(call('call_1'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => t.store.tx((tx) => new CallsRepository(tx).addTurn('call_1', turn(`t${i}`)))));
    expect((await calls.turns('call_1')).map((x) => x.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await calls.get('call_1'))?.turns).toBe(20);
  });

  it('lists a number’s calls newest first, by status and before a cursor; lists the live ones', async () => {
    await calls.insert(call('call_a', { createdAt: '2026-12-01T00:00:01.000Z' }));
    await calls.insert(call('call_b', { createdAt: '2026-12-01T00:00:02.000Z', direction: 'inbound', status: 'ringing' }));
    await calls.insert(call('call_c', { createdAt: '2026-12-01T00:00:03.000Z' }));
    await calls.end(ending('call_c'));
    expect((await calls.list(NUMBER, { limit: 10 })).map((c) => c.id)).toEqual(['call_c', 'call_b', 'call_a']);
    expect((await calls.list(NUMBER, { limit: 10, status: 'ringing' })).map((c) => c.id)).toEqual(['call_b']);
    expect((await calls.list(NUMBER, { limit: 1, before: '2026-12-01T00:00:03.000Z' })).map((c) => c.id)).toEqual(['call_b']);
    expect((await calls.listLive()).map((c) => c.id).sort()).toEqual(['call_a', 'call_b']);
  });

  it('upserts a number’s voice settings', async () => {
    expect(await calls.voiceSettings(NUMBER)).toBeUndefined();
    await calls.setVoiceSettings({ numberId: NUMBER, systemPrompt: 'be brief', greeting: null, voice: 'tara' }, '2026-12-01T00:00:00.000Z');
    await calls.setVoiceSettings({ numberId: NUMBER, systemPrompt: null, greeting: 'Hi', voice: 'leo' }, '2026-12-01T00:00:01.000Z');
    expect(await calls.voiceSettings(NUMBER)).toEqual({ numberId: NUMBER, systemPrompt: null, greeting: 'Hi', voice: 'leo' });
  });
});

/*
 * The calls queue of a cluster: queued outbound calls no node has taken are claimed once each
 * even when two nodes claim at the same time (on PostgreSQL two stores, i.e. two connection pools,
 * as two nodes have), one call is taken to cancel it, and the live calls of a node whose heartbeat
 * stopped are found.
 */
describeOnEachDialect('calls queue of a cluster', (open) => {
  let t: TestStore;
  let other: SqlStore<Database> | undefined;
  let calls: CallsRepository;
  beforeEach(async () => {
    t = await open();
    await t.store.db.insertInto('numbers').values({ id: NUMBER, phone_number: '+15550000001', webhook_secret: 's', created_at: 'now', updated_at: 'now' }).execute();
    calls = new CallsRepository(t.store.db);
  });
  afterEach(async () => {
    await other?.close();
    other = undefined;
    await t.close();
  });

  it('two nodes claiming at once take every queued outbound call exactly once, first placed first, and nothing else', async () => {
    const queued = Array.from({ length: 40 }, (_, i) => `call_${String(i).padStart(2, '0')}`);
    for (const id of queued) await calls.insert(call(id, { createdAt: `2026-12-01T00:00:${id.slice(-2)}.000Z` }));
    // Not claimable: taken already, ringing, ended, inbound.
    await calls.insert(call('call_taken', { nodeId: 'node-x' }));
    await calls.insert(call('call_ringing', { status: 'ringing' }));
    await calls.insert(call('call_ended', { status: 'canceled' }));
    await calls.insert(call('call_inbound', { direction: 'inbound', status: 'ringing' }));
    // PostgreSQL: node B is a second pool on the same database, as another gateway would be.
    other = t.url === undefined ? undefined : await openPostgresStore<Database>({ url: t.url });
    const nodeB = new CallsRepository((other ?? t.store).db);
    const drain = async (repo: CallsRepository, node: string) => {
      const got: CallRecord[] = [];
      for (let batch = await repo.claimQueued(node, 3); batch.length > 0; batch = await repo.claimQueued(node, 3)) {
        expect(batch.length).toBeLessThanOrEqual(3);
        expect(batch.map((c) => c.createdAt)).toEqual([...batch.map((c) => c.createdAt)].sort());
        got.push(...batch);
      }
      return got;
    };
    const [a, b] = await Promise.all([drain(calls, 'node-a'), drain(nodeB, 'node-b')]);
    const all = [...a, ...b].map((c) => c.id);
    expect(all.sort()).toEqual(queued);
    expect(new Set(all).size).toBe(all.length);
    for (const c of a) expect(await calls.get(c.id)).toMatchObject({ nodeId: 'node-a', status: 'queued' });
    for (const c of b) expect(await calls.get(c.id)).toMatchObject({ nodeId: 'node-b', status: 'queued' });
    expect(await calls.get('call_taken')).toMatchObject({ nodeId: 'node-x' });
    expect(await calls.get('call_ringing')).toMatchObject({ nodeId: null });
    expect(await calls.claimQueued('node-a', 10)).toEqual([]);
  });

  it('takes one unclaimed queued call once (to cancel it), never one a node has or one that ended', async () => {
    await calls.insert(call('call_01'));
    await calls.insert(call('call_02', { nodeId: 'node-b' }));
    await calls.insert(call('call_03', { status: 'failed' }));
    const [first, second] = await Promise.all([calls.claimOne('call_01', 'node-a'), calls.claimOne('call_01', 'node-c')]);
    expect([first?.nodeId, second?.nodeId].filter(Boolean)).toHaveLength(1);
    expect(await calls.claimOne('call_02', 'node-a')).toBeUndefined();
    expect(await calls.claimOne('call_03', 'node-a')).toBeUndefined();
    expect(await calls.claimQueued('node-a', 10)).toEqual([]);
  });

  it("finds the live calls of nodes whose heartbeat stopped or whose row is gone; a live node's, ended and unclaimed calls are left", async () => {
    const leases = new LeasesRepository(t.store);
    await leases.registerNode({ id: 'node-live', host: 'h1', pid: 1, version: 'test' }, 10_000);
    await t.store.db.insertInto('cluster_nodes').values({ id: 'node-dead', host: 'h2', pid: 2, version: 'test', started_at: 0, heartbeat_at: 0, info: '{}' }).execute();
    await calls.insert(call('call_01', { nodeId: 'node-live', status: 'ringing' }));
    await calls.insert(call('call_02', { nodeId: 'node-dead', status: 'in-progress' }));
    await calls.insert(call('call_03', { nodeId: 'node-gone', status: 'queued' }));
    await calls.insert(call('call_04', { nodeId: 'node-dead', status: 'completed' }));
    await calls.insert(call('call_05'));
    expect((await calls.liveOnDeadNodes(10_000)).map((c) => c.id).sort()).toEqual(['call_02', 'call_03']);
    expect((await calls.listLive('node-dead')).map((c) => c.id)).toEqual(['call_02']);
    expect((await calls.listLive()).map((c) => c.id).sort()).toEqual(['call_01', 'call_02', 'call_03', 'call_05']);
  });
});
