import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPgNotifier, LocalNotifier, MAX_PAYLOAD_BYTES, type Notifier } from '../../src/cluster/index.ts';
import { UnavailableError, ValidationError } from '../../src/errors/index.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { until } from '../helpers/wait.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }), lines };
}

/** What a handler received, in order. */
function inbox(): { payloads: string[]; handler: (p: string) => void } {
  const payloads: string[] = [];
  return { payloads, handler: (p) => void payloads.push(p) };
}

interface Nodes {
  /** The sender; on PostgreSQL a different node (connection pair) from `b`. */
  a: Notifier;
  b: Notifier;
  lines: string[];
}

const pgAvailable = postgresUnavailable() === undefined;
let server: TestPostgres | undefined;
let dbUrl = '';

/** Node names unique per test, so pg_stat_activity lookups find only this test's backends. */
let nodeSeq = 0;

const factories: Record<'LocalNotifier' | 'PgNotifier', () => Promise<Nodes>> = {
  LocalNotifier: async () => {
    const { logger, lines } = capturingLogger();
    const n = new LocalNotifier({ logger });
    return { a: n, b: n, lines };
  },
  PgNotifier: async () => {
    const { logger, lines } = capturingLogger();
    const connection = { connectionString: dbUrl };
    const seq = ++nodeSeq;
    const a = await createPgNotifier({ connection, logger, applicationName: `node-a-${seq}` });
    const b = await createPgNotifier({ connection, logger, applicationName: `node-b-${seq}`, reconnectInitialMs: 20 });
    return { a, b, lines };
  },
};

const open: Notifier[] = [];
async function nodes(kind: keyof typeof factories): Promise<Nodes> {
  const n = await factories[kind]();
  open.push(n.a, n.b);
  return n;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close()));
});

beforeAll(async () => {
  if (!pgAvailable) return;
  server = await startPostgres();
  dbUrl = await server.createDatabase();
}, 60_000);
afterAll(() => server?.stop());

function contract(kind: keyof typeof factories): void {
  it('delivers a notify to a listener (on PostgreSQL: another node), payload intact', async () => {
    const { a, b } = await nodes(kind);
    const got = inbox();
    await b.listen('parts_due', got.handler);
    await a.notify('parts_due', 'line-1 ✓ "quoted" \' ; DROP TABLE x');
    await until(() => got.payloads.length === 1, 10_000, 'the notification');
    expect(got.payloads).toEqual(['line-1 ✓ "quoted" \' ; DROP TABLE x']);
  });

  it('delivers asynchronously, never inside notify()', async () => {
    const { a, b } = await nodes(kind);
    let insideNotify = false;
    const calledInside: boolean[] = [];
    await b.listen('async_check', () => void calledInside.push(insideNotify));
    insideNotify = true;
    const sent = a.notify('async_check', '');
    insideNotify = false;
    await sent;
    await until(() => calledInside.length === 1, 10_000, 'the notification');
    expect(calledInside).toEqual([false]);
  });

  it('stops delivering to an unlistened handler and keeps the others', async () => {
    const { a, b } = await nodes(kind);
    const gone = inbox();
    const kept = inbox();
    const unlisten = await b.listen('lines', gone.handler);
    await b.listen('lines', kept.handler);
    await a.notify('lines', 'one');
    await until(() => gone.payloads.length === 1 && kept.payloads.length === 1, 10_000, 'both handlers');
    await unlisten();
    await unlisten(); // idempotent
    await a.notify('lines', 'two');
    await until(() => kept.payloads.length === 2, 10_000, 'the remaining handler');
    expect(gone.payloads).toEqual(['one']);
    expect(kept.payloads).toEqual(['one', 'two']);
  });

  it('delivers 1,000 notifies, all of them, in the order they were sent', async () => {
    const { a, b } = await nodes(kind);
    const got = inbox();
    await b.listen('burst', got.handler);
    const sent = Array.from({ length: 1000 }, (_, i) => String(i));
    // Issued all at once: the order of the calls is the order of delivery.
    await Promise.all(sent.map((p) => a.notify('burst', p)));
    await until(() => got.payloads.length >= 1000, 15_000, '1,000 notifications');
    expect(got.payloads).toEqual(sent);
  });

  it('refuses bad channel names with a ValidationError', async () => {
    const { a, b } = await nodes(kind);
    for (const channel of ['', 'Parts', 'parts-due', 'parts due', 'é', 'x'.repeat(64), 'a"b']) {
      await expect(a.notify(channel, 'p'), channel).rejects.toBeInstanceOf(ValidationError);
      await expect(b.listen(channel, () => undefined), channel).rejects.toBeInstanceOf(ValidationError);
    }
    const longest = 'x'.repeat(63);
    const got = inbox();
    await b.listen(longest, got.handler);
    await a.notify(longest, 'fits');
    await until(() => got.payloads.length === 1, 10_000, 'the 63-byte channel');
  });

  it('refuses a payload over the limit instead of truncating it, and delivers one at the limit whole', async () => {
    const { a, b } = await nodes(kind);
    const got = inbox();
    await b.listen('big', got.handler);
    await expect(a.notify('big', 'x'.repeat(MAX_PAYLOAD_BYTES + 1))).rejects.toBeInstanceOf(ValidationError);
    await expect(a.notify('big', 'é'.repeat(4000))).rejects.toThrow(/8000 bytes/); // 2 bytes each in UTF-8
    await expect(a.notify('big', 'nul\0byte')).rejects.toBeInstanceOf(ValidationError);
    const atLimit = 'é'.repeat(3999) + 'x';
    await a.notify('big', atLimit);
    await until(() => got.payloads.length === 1, 10_000, 'the payload at the limit');
    expect(got.payloads[0]).toBe(atLimit);
  });

  it('logs a throwing or rejecting handler and still runs the others, without the payload in the log', async () => {
    const { a, b, lines } = await nodes(kind);
    const got = inbox();
    await b.listen('faulty', () => {
      throw new Error('handler bug');
    });
    await b.listen('faulty', (async () => {
      throw new Error('async handler bug');
    }) as unknown as (p: string) => void);
    await b.listen('faulty', got.handler);
    await a.notify('faulty', 'secret-payload-1');
    await a.notify('faulty', 'secret-payload-2');
    await until(() => got.payloads.length === 2, 10_000, 'the healthy handler');
    await until(() => lines.filter((l) => l.includes('notify handler failed')).length === 4, 10_000, 'four logged failures');
    expect(lines.join('')).not.toContain('secret-payload');
  });

  it('refuses notify and listen after close(), and delivers nothing more', async () => {
    const { a, b } = await nodes(kind);
    const got = inbox();
    await b.listen('after_close', got.handler);
    await b.close();
    await expect(b.notify('after_close', 'x')).rejects.toBeInstanceOf(UnavailableError);
    await expect(b.listen('after_close', got.handler)).rejects.toBeInstanceOf(UnavailableError);
    if (a !== b) {
      // A listener on the live node shows the notification went out before we look at b's.
      const witness = inbox();
      await a.listen('after_close', witness.handler);
      await a.notify('after_close', 'x');
      await until(() => witness.payloads.length === 1, 10_000, 'the witness');
    }
    expect(got.payloads).toEqual([]);
  });
}

describe('LocalNotifier', () => {
  contract('LocalNotifier');

  it('never fires resync (it has no connection to lose)', async () => {
    const { a } = await nodes('LocalNotifier');
    let resyncs = 0;
    a.onResync(() => resyncs++);
    await a.notify('x', '');
    expect(resyncs).toBe(0);
  });
});

describeWithTool('PgNotifier on a real PostgreSQL', pgAvailable, postgresUnavailable() ?? '', () => {
  contract('PgNotifier');

  async function terminate(applicationName: string): Promise<number> {
    const admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      return rows.filter((r) => r.ok).length;
    } finally {
      await admin.end();
    }
  }

  it('reconnects after its listening backend is terminated, re-listens every channel, fires resync', async () => {
    const { a, b, lines } = await nodes('PgNotifier');
    const one = inbox();
    const two = inbox();
    await b.listen('chan_one', one.handler);
    await b.listen('chan_two', two.handler);
    let resyncs = 0;
    b.onResync(() => resyncs++);
    const name = `node-b-${nodeSeq}/listen`;
    expect(await terminate(name)).toBe(1);
    await until(() => resyncs === 1, 15_000, 'resync');
    expect(lines.some((l) => l.includes('notifier connection lost'))).toBe(true);
    await a.notify('chan_one', 'after-1');
    await a.notify('chan_two', 'after-2');
    await until(() => one.payloads.length === 1 && two.payloads.length === 1, 10_000, 'notifications after the reconnect');
    expect([one.payloads, two.payloads]).toEqual([['after-1'], ['after-2']]);
    // One new listening backend, not a leak of them.
    const admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
    await admin.end();
    expect(rows[0]?.n).toBe('1');
  });

  it('notifies again after its notify backend is terminated', async () => {
    const { a, b } = await nodes('PgNotifier');
    const got = inbox();
    await b.listen('notify_side', got.handler);
    await a.notify('notify_side', 'before');
    expect(await terminate(`node-a-${nodeSeq}/notify`)).toBe(1);
    await a.notify('notify_side', 'after');
    await until(() => got.payloads.length === 2, 10_000, 'both notifications');
    expect(got.payloads).toEqual(['before', 'after']);
  });

  describe('through a TCP proxy that the test breaks', () => {
    let proxy: TcpProxy;
    afterEach(() => proxy?.close());

    /** Node B through the proxy (ping every 100 ms, 300 ms to answer), node A direct. */
    async function proxiedNodes(): Promise<Nodes & { resyncs: () => number }> {
      proxy = await startTcpProxy(server!.port);
      const { logger, lines } = capturingLogger();
      const viaProxy = dbUrl.replace(`:${server!.port}/`, `:${proxy.port}/`);
      const a = await createPgNotifier({ connection: { connectionString: dbUrl }, logger: capturingLogger().logger });
      const b = await createPgNotifier({
        connection: { connectionString: viaProxy, connectionTimeoutMillis: 1000 },
        logger,
        reconnectInitialMs: 20,
        reconnectMaxMs: 200,
        pingIntervalMs: 100,
        pingTimeoutMs: 300,
        notifyTimeoutMs: 300,
      });
      open.push(a, b);
      let resyncs = 0;
      b.onResync(() => resyncs++);
      return { a, b, lines, resyncs: () => resyncs };
    }

    it('keeps retrying with backoff while the server is unreachable, then re-listens and resyncs', async () => {
      const { a, b, lines, resyncs } = await proxiedNodes();
      const got = inbox();
      await b.listen('outage', got.handler);
      await proxy.down();
      await until(() => lines.filter((l) => l.includes('notifier reconnect failed')).length >= 3, 15_000, 'failed reconnects');
      // Sent while B is away: lost, which is what resync is for.
      await a.notify('outage', 'during');
      expect(resyncs()).toBe(0);
      await proxy.up();
      await until(() => resyncs() === 1, 15_000, 'resync');
      await a.notify('outage', 'after');
      await until(() => got.payloads.includes('after'), 10_000, 'the notification after the outage');
      expect(got.payloads).toEqual(['after']);
    });

    it('drops a notify connection that went silent and sends on a new one', async () => {
      const { a, b } = await proxiedNodes();
      const got = inbox();
      await a.listen('silent_notify', got.handler);
      await b.notify('silent_notify', 'before');
      proxy.blackhole();
      await b.notify('silent_notify', 'after');
      await until(() => got.payloads.length === 2, 10_000, 'both notifications');
      expect(got.payloads).toEqual(['before', 'after']);
    });

    it('finds a connection that went silent with its ping, and reconnects', async () => {
      const { a, b, lines, resyncs } = await proxiedNodes();
      const got = inbox();
      await b.listen('silent', got.handler);
      proxy.blackhole();
      await until(() => resyncs() === 1, 15_000, 'resync');
      expect(lines.some((l) => l.includes('notifier ping timeout'))).toBe(true);
      await a.notify('silent', 'after');
      await until(() => got.payloads.length === 1, 10_000, 'the notification after the reconnect');
      expect(got.payloads).toEqual(['after']);
    });
  });

  it('refuses to start against a server that is not there', async () => {
    const { logger } = capturingLogger();
    await expect(
      createPgNotifier({ connection: { connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 2000 }, logger }),
    ).rejects.toBeInstanceOf(UnavailableError);
  });

  it('leaves no socket or timer behind after close(): the process exits by itself', async () => {
    const fixture = join(import.meta.dirname, 'notifier-exit-fixture.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dbUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // A bound on a hang, not a timing assertion: with a handle left open it would never exit.
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    expect({ code, signal, out: out.trim() }).toEqual({ code: 0, signal: null, out: 'closed' });
  }, 30_000);
});
