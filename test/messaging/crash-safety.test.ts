import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessagesRepository, openDatabase, OutboxRepository, sqliteSqlStore, type Database } from '../../src/store/index.ts';
import { BIN } from '../helpers/cli.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const ADMIN = 'crash-test-admin-token-0123456789';

function startProcess(configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--config', configFile], {
    env: { PATH: process.env.PATH, AGENTPHONE_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('AgentPhone listening on')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${err}`)));
  });
}

describe('crash safety (kill -9 of the gateway process mid-flow)', () => {
  const tempDir = useTempDir();
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('loses no accepted message, delivers every stored event, and never sends an inline reply twice', async () => {
    const dir = tempDir();
    const port = await freePort();
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    // Line B answers every "ping" inline with a "pong"; line A just acknowledges.
    receiver.answer = (hook) =>
      String(hook.json.body ?? '').startsWith('ping')
        ? { status: 200, body: { action: 'respond', reply: `pong ${String(hook.json.body).slice(5)}` }, delayMs: 20 }
        : { status: 200, body: { action: 'ignore' } };
    const configFile = join(dir, 'agentphone.yaml');
    writeFileSync(
      configFile,
      [
        `dataDir: ${join(dir, 'data')}`,
        'server: { host: 127.0.0.1, port: ' + port + ' }',
        'log: { level: silent }',
        'virtual: { sendsPerMinute: 6000, latency: { minMs: 5, maxMs: 30 } }',
        'numbers:',
        '  - { line: virtual-1, webhookUrl: "' + hookUrl + '" }',
        '  - { line: virtual-2, webhookUrl: "' + hookUrl + '" }',
      ].join('\n'),
    );
    const base = `http://127.0.0.1:${port}`;
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

    children.push(await startProcess(configFile));
    const { key } = (await (await fetch(`${base}/admin/keys`, { method: 'POST', headers: admin, body: '{}' })).json()) as { key: string };
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const { numbers } = (await (await fetch(`${base}/api/numbers`, { headers: auth })).json()) as {
      numbers: Array<{ id: string; line: string }>;
    };
    const lineA = numbers.find((n) => n.line === 'virtual-1')!.id;

    const accepted: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${base}/api/numbers/${lineA}/send/sms`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ to: '+15550000002', body: `ping ${i}` }),
      });
      expect(res.status).toBe(200);
      accepted.push(((await res.json()) as { messageId: string }).messageId);
    }
    // Kill it while pings, webhooks and inline pongs are in flight.
    await receiver.waitFor(() => receiver.events('message.inbound').length >= 5);
    children[0]!.kill('SIGKILL');
    await new Promise((resolve) => children[0]!.once('exit', resolve));

    children.push(await startProcess(configFile));
    const db = openDatabase(join(dir, 'data', 'agentphone.db'));
    const store = sqliteSqlStore<Database>(db);
    const messages = new MessagesRepository(store.db);
    const outbox = new OutboxRepository(store.db);
    try {
      // Every accepted send is still there and leaves the queue.
      await until(
        async () => (await Promise.all(accepted.map((id) => messages.get(id)))).every((m) => ['sent', 'delivered'].includes(m?.status ?? '')),
        20_000,
        'all pings sent',
      );
      // Every stored inbound message had its webhook delivered (at least once).
      const allEvents = async () => (await Promise.all(numbers.map((n) => outbox.listForNumber(n.id, null, 1000)))).flat().filter((e) => e.event === 'message.inbound');
      const pings = async () => (await Promise.all(numbers.map((n) => messages.list(n.id, { direction: 'inbound', limit: 1000 })))).flat().filter((m) => m.body.startsWith('ping'));
      const pongs = async () => (await Promise.all(numbers.map((n) => messages.list(n.id, { direction: 'outbound', limit: 1000 })))).flat().filter((m) => m.body.startsWith('pong'));
      // A ping counts as sent before line B has it (and one the killed process's network held is
      // gone with it): wait until no ping has arrived for a second, every event was delivered and
      // every ping answered (a lost pong times out here), then check exactness.
      let seen = -1;
      let steadySince = 0;
      await until(
        async () => {
          const n = (await pings()).length;
          if (n !== seen) [seen, steadySince] = [n, Date.now()];
          return Date.now() - steadySince >= 1000 && (await allEvents()).every((e) => e.status === 'delivered') && (await pongs()).length >= n;
        },
        20_000,
        'every ping received, its webhook delivered and answered',
      );
      const pingsIn = await pings();
      // No inbound message stored twice.
      expect(new Set(pingsIn.map((m) => m.body)).size).toBe(pingsIn.length);
      // Exactly one pong per ping event, however many times its webhook was delivered.
      const pongsOut = await pongs();
      expect(pongsOut.length).toBe(pingsIn.length);
      expect(new Set(pongsOut.map((m) => m.replyTo)).size).toBe(pongsOut.length);
      expect(new Set(pongsOut.map((m) => m.body)).size).toBe(pongsOut.length);
    } finally {
      await store.close();
      db.close();
      await receiver.stop();
    }
  }, 60_000);
});
