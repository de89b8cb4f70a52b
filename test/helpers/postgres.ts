/**
 * A throwaway PostgreSQL server for tests: Debian's `postgresql` package, initdb in a temp dir,
 * its own loopback port and socket dir, run as an unprivileged user (initdb refuses root: as
 * root the server runs as `postgres`, the package's user, else as whoever runs the tests).
 * Stopped with `stop()`, and killed by pid if the test process exits first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin dir, or undefined. */
function binDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(PG_ROOT, versions[0], 'bin');
}

/** Why no server can be started here (for describeWithTool), or undefined when one can. */
export function postgresUnavailable(): string | undefined {
  if (!binDir()) return "PostgreSQL (Debian's postgresql package)";
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return "the 'postgres' user (Debian's postgresql package)";
  return undefined;
}

export interface TestPostgres {
  /** postgres://… of the server's maintenance database (`postgres`). */
  readonly url: string;
  readonly port: number;
  /** The postmaster's process id (benchmarks read the server's CPU from /proc). */
  readonly pid: number;
  /** A new, empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

const SUPERUSER = 'agentphone';
let databases = 0;

interface Ids {
  uid: number;
  gid: number;
}

/** The package's `postgres` user when running as root (initdb and postgres refuse root). */
function serverIds(): Ids | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Runs `cmd args` as the server's user; throws with its output when it fails. */
function runAs(ids: Ids | undefined, cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { encoding: 'utf8', ...ids });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}): ${res.stderr || res.stdout}`);
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  if (!bin) throw new Error(postgresUnavailable());
  const ids = serverIds();
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-pg-'));
  const data = join(dir, 'data');
  if (ids) chownSync(dir, ids.uid, ids.gid);
  chmodSync(dir, 0o700);
  runAs(ids, join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  // Durability settings off: a test server's data dies with it. Connections: a cluster test runs
  // several gateways with pools of their own.
  const server = spawn(
    join(bin, 'postgres'),
    [
      '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], ...ids },
  );
  let log = '';
  server.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const kill = () => server.kill('SIGKILL');
  process.once('exit', kill);
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;

  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (server.exitCode !== null || Date.now() > deadline) {
        kill();
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${log}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    url,
    port,
    pid: server.pid!,
    async createDatabase(name = `t${process.pid}_${++databases}`) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      process.off('exit', kill);
      if (server.exitCode === null) {
        server.kill('SIGINT'); // fast shutdown: disconnects clients, no checkpoint wait
        const timer = setTimeout(kill, 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

