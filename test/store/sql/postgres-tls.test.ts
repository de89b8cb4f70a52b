import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors/index.ts';
import { openPostgresStore, type PostgresSslOptions } from '../../../src/store/index.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { describeWithTool, hasCommand } from '../../helpers/system-tool.ts';
import { until } from '../../helpers/wait.ts';

const need = postgresUnavailable() ?? (hasCommand('openssl', ['version']) ? undefined : 'openssl');

function openssl(dir: string, args: string[]): void {
  const res = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${res.stderr}`);
}

/** A CA, a server certificate it signed for 127.0.0.1 only, and an unrelated CA. */
function makeCertificates(dir: string): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.crt`]);
  }
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.cnf', '-out', 'server.crt']);
}

// The throwaway server with TLS turned on at run time (ssl is reloadable), so each mode is tried
// against a real handshake: require encrypts, verify-full checks the CA and the host name.
describeWithTool('PostgreSQL store over TLS', need === undefined, need ?? '', () => {
  let server: TestPostgres;
  let dir: string;
  let url: string;
  beforeAll(async () => {
    server = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'agentphone-pg-tls-'));
    chmodSync(dir, 0o755);
    makeCertificates(dir);
    // The server refuses a key others can read, and runs as the package's postgres user when we are root.
    chmodSync(join(dir, 'server.key'), 0o600);
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      for (const f of ['server.key', 'server.crt']) chownSync(join(dir, f), uid, gid);
    }
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`ALTER SYSTEM SET ssl_cert_file = '${join(dir, 'server.crt')}'`);
      await admin.query(`ALTER SYSTEM SET ssl_key_file = '${join(dir, 'server.key')}'`);
      await admin.query('ALTER SYSTEM SET ssl = on');
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
    url = await server.createDatabase();
    // The reload is asynchronous: wait until the server answers a TLS handshake.
    await until(async () => {
      const store = await openPostgresStore({ url, ssl: { mode: 'require' } }).catch(() => undefined);
      await store?.close();
      return store !== undefined;
    }, 15_000, 'TLS to come up');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function encrypted(target: string, ssl: PostgresSslOptions): Promise<boolean> {
    const store = await openPostgresStore({ url: target, ssl });
    try {
      const { rows } = await sql<{ ssl: boolean }>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`.execute(store.db);
      return rows[0]!.ssl;
    } finally {
      await store.close();
    }
  }

  it('require: encrypts without checking the certificate', async () => {
    expect(await encrypted(url, { mode: 'require' })).toBe(true);
    expect(await encrypted(url, { mode: 'disable' })).toBe(false);
  });

  it('verify-full: connects when the CA signed the certificate for this host', async () => {
    expect(await encrypted(url, { mode: 'verify-full', caFile: join(dir, 'ca.crt') })).toBe(true);
  });

  it('verify-full: refuses a certificate from another CA', async () => {
    const err = await openPostgresStore({ url, ssl: { mode: 'verify-full', caFile: join(dir, 'other-ca.crt') } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/Cannot connect to PostgreSQL .*verify-full.*(certificate|self.signed)/i);
  });

  it('verify-full: refuses a certificate whose names do not include the host connected to', async () => {
    const byName = url.replace('127.0.0.1', 'localhost');
    const err = await openPostgresStore({ url: byName, ssl: { mode: 'verify-full', caFile: join(dir, 'ca.crt') } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/localhost.*(altnames|not in the cert)/i);
    // require does not check names, so the same host is accepted there.
    expect(await encrypted(byName, { mode: 'require' })).toBe(true);
  });
});
