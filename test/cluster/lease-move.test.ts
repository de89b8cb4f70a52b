/**
 * A line's lease moves when its node dies: two gateway processes on one PostgreSQL both drive a
 * virtual line with the same id (one modem, replugged on another box). Node A holds the line and
 * paces it slowly, so parts wait on it; A is killed with SIGKILL; once cluster.leaseMs has passed
 * without A's beat, node B takes the line and sends what A left queued, each part once.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { NodeProcess } from './node-process.ts';

const LINE = { id: 'modem-shared', number: '+15550001001' };
const TO = '+15557001001';
const need = postgresUnavailable();

interface MessageView {
  id: string;
  status: string;
  body: string;
}

describeWithTool('a line moves to another node when its holder is killed (real processes, PostgreSQL)', need === undefined, need ?? '', () => {
  const tempDir = useTempDir('agentphone-lease-move-');
  let server: TestPostgres;
  let a: NodeProcess;
  let b: NodeProcess;

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a?.kill9(), b?.kill9()]);
    await server?.stop();
  });

  it("B takes the line leaseMs after A's kill -9 and sends the parts A left queued, once each", { timeout: 120_000 }, async () => {
    const databaseUrl = await server.createDatabase();
    const dir = tempDir();
    const node = (nodeId: string, sendsPerMinute: number) => {
      const nodeDir = join(dir, nodeId);
      mkdirSync(nodeDir);
      return NodeProcess.create({ dir: nodeDir, nodeId, databaseUrl, lines: [LINE], sendsPerMinute, heartbeatMs: 200, leaseMs: 1000 });
    };
    // A sends one SMS a minute on the line: after the first, the rest wait for it.
    a = await node('node-a', 1);
    b = await node('node-b', 60_000);
    await a.start();
    await b.start(false);
    await until(async () => (await b.health()).cluster.leasedElsewhere.some((l) => l.line === LINE.id && l.node === 'node-a'), 10_000, 'B to see the line held by A');

    const { key } = await a.adminJson<{ key: string }>('/keys', { method: 'POST', body: JSON.stringify({ name: 'lease-move' }) });
    const api = (gw: NodeProcess, path: string, init: RequestInit = {}) =>
      fetch(`${gw.url}/api${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    const numbers = (await (await api(b, '/numbers')).json()) as { numbers: { id: string; phoneNumber: string }[] };
    const numberId = numbers.numbers.find((n) => n.phoneNumber === LINE.number)?.id;
    expect(numberId).toBeDefined();
    const message = async (id: string) => (await (await api(b, `/numbers/${numberId}/messages/${id}`)).json()) as MessageView;
    const done = (m: MessageView) => m.status === 'sent' || m.status === 'delivered';

    // Sent through B's API: the line's holder, A, sends them.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(b, `/numbers/${numberId}/send/sms`, { method: 'POST', body: JSON.stringify({ to: TO, body: `queued ${i}` }) });
      expect(res.status).toBe(200);
      ids.push(((await res.json()) as { messageId: string }).messageId);
    }
    await until(async () => (await Promise.all(ids.map(message))).filter(done).length === 1, 15_000, 'A to send one part');
    await until(async () => (await a.inbox(TO)).length === 1, 10_000, "the first text in the subscriber's inbox on A's network");
    const first = (await a.inbox(TO))[0]?.body;
    const waiting = (await Promise.all(ids.map(message))).filter((m) => !done(m));
    // A paces the line at one a minute: four wait, queued in the store or claimed by A.
    expect(waiting.map((m) => m.status).every((s) => s === 'queued' || s === 'sending')).toBe(true);
    expect(waiting.map((m) => m.body).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `queued ${i}`).filter((t) => t !== first));

    await a.kill9();
    // A's lease lapses (leaseMs after its last beat); B takes the line and requeues what A had claimed.
    await until(async () => b.holdsAll([LINE.id]), 15_000, 'B to take the line');
    await until(async () => (await Promise.all(ids.map(message))).every(done), 15_000, 'B to send the waiting parts');

    // B sent the four that waited, each once, and not the one A had sent.
    const onB = (await b.inbox(TO)).map((m) => m.body).sort();
    expect(onB).toEqual(waiting.map((m) => m.body).sort());
    expect(onB).not.toContain(first);
  });
});
