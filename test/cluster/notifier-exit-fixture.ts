/**
 * Run as a child process by notifier.test.ts: two PgNotifiers and a LocalNotifier round-trip,
 * one reconnects after its backend is terminated, one is closed while waiting to reconnect;
 * then all close and the script returns without process.exit(). It exits only if close()
 * left no socket or timer behind.
 */
import pg from 'pg';
import { pino } from 'pino';
import { silentLogger } from '../../src/logging/index.ts';
import { createPgNotifier, LocalNotifier, type Notifier } from '../../src/cluster/index.ts';

const url = process.argv[2];
if (!url) throw new Error('usage: notifier-exit-fixture.ts <postgres url>');
const logger = silentLogger();

function roundTrip(from: Notifier, to: Notifier, channel: string): Promise<void> {
  return new Promise((resolve, reject) => {
    void to
      .listen(channel, () => resolve())
      .then(() => from.notify(channel, 'ping'))
      .catch(reject);
  });
}

async function terminate(applicationName: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  await admin.end();
}

const a = await createPgNotifier({ connection: { connectionString: url }, logger, applicationName: 'exit-a' });
const b = await createPgNotifier({ connection: { connectionString: url }, logger, applicationName: 'exit-b', reconnectInitialMs: 10 });
// Waits 10 minutes before its first reconnect: close() must cancel that timer.
let cLost: () => void = () => undefined;
const cLostSeen = new Promise<void>((resolve) => (cLost = resolve));
const cLogger = pino({ level: 'warn' }, { write: (line: string) => void (line.includes('connection lost') && cLost()) });
const c = await createPgNotifier({ connection: { connectionString: url }, logger: cLogger, applicationName: 'exit-c', reconnectInitialMs: 600_000, reconnectMaxMs: 600_000 });
const local = new LocalNotifier({ logger });

await roundTrip(a, b, 'exit_one');
const resynced = new Promise<void>((resolve) => b.onResync(resolve));
await terminate('exit-b/listen');
await resynced;
await roundTrip(a, b, 'exit_two');
await roundTrip(local, local, 'exit_local');
await c.listen('exit_c', () => undefined);
await terminate('exit-c/listen');
await cLostSeen;

await Promise.all([a.close(), b.close(), c.close(), local.close()]);
process.stdout.write('closed\n');
