import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import pg from 'pg';
import { postgresUrlProblem } from '../../config/postgres.ts';
import type { Config } from '../../config/schema.ts';
import { StoreError } from '../../errors/index.ts';
import type { SqlStore } from './sql-store.ts';
import { GuardedPostgresDriver, runTransaction } from './transaction-guard.ts';

/**
 * `require`: encrypted, the server's certificate not checked (libpq's sslmode=require).
 * `verify-full`: encrypted, certificate checked against the CA (caFile, else the system's) and
 * the host name.
 */
export type PostgresSslMode = 'disable' | 'require' | 'verify-full';

export interface PostgresSslOptions {
  readonly mode: PostgresSslMode;
  /** PEM bundle of the CA that signed the server's certificate (verify-full). */
  readonly caFile?: string;
  /** Client certificate and key, for servers that authenticate clients by certificate. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database; never echoed (it may hold the password). */
  readonly url: string;
  readonly ssl?: PostgresSslOptions;
  /** Connections in the pool (pg's default is 10). */
  readonly poolSize?: number;
  /** Shown in pg_stat_activity: which node holds a connection. */
  readonly applicationName?: string;
  /** How long to wait for a connection before a query fails (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Told when an idle pooled connection breaks (the pool replaces it); without one it is ignored. */
  readonly logger?: { warn(fields: object, msg: string): void };
}

/** The setting names in config, for messages that say which one is wrong. */
const SETTING = 'store.postgres';

/**
 * Opens a pool to PostgreSQL and checks that one connection can be made, so a wrong URL, a
 * refused TLS handshake or bad credentials fail here with a StoreError instead of at the first
 * query. Messages name the host, port and database, never the URL (it may hold the password).
 */
export async function openPostgresStore<DB>(options: PostgresStoreOptions): Promise<SqlStore<DB>> {
  const where = describeTarget(options.url);
  const pool = new pg.Pool({ ...pgConnectionConfig(options), max: options.poolSize, types: typeParsers() });
  // An idle connection that breaks emits 'error' on the pool; unheard, that would end the process.
  pool.on('error', (err) => options.logger?.warn({ err: err.message, where }, 'PostgreSQL pooled connection lost'));
  const db = new Kysely<DB>({
    dialect: {
      createDriver: () => new GuardedPostgresDriver({ pool }),
      createQueryCompiler: () => new PostgresQueryCompiler(),
      createAdapter: () => new PostgresAdapter(),
      createIntrospector: (k) => new PostgresIntrospector(k),
    },
  });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const mode = options.ssl?.mode ?? 'disable';
    throw new StoreError(`Cannot connect to PostgreSQL at ${where} (${SETTING}.ssl.mode ${mode}): ${(err as Error).message}`, {
      cause: err,
      retryable: true,
    });
  }
  return { dialect: 'postgres', db, tx: (fn) => runTransaction(db, fn), close: () => db.destroy() };
}

/** The store's options from config (store.postgres, whose url is set), connections named for the node. */
export function postgresStoreOptions(pg: Config['store']['postgres'], nodeName: string): PostgresStoreOptions & { url: string } {
  if (pg.url === null) throw new StoreError(`${SETTING}.url is not set`);
  const file = (path: string | null): string | undefined => path ?? undefined;
  return {
    url: pg.url,
    ssl: { mode: pg.ssl.mode, caFile: file(pg.ssl.caFile), certFile: file(pg.ssl.certFile), keyFile: file(pg.ssl.keyFile) },
    poolSize: pg.poolSize,
    connectTimeoutMs: pg.connectTimeoutMs,
    // PostgreSQL keeps 63 bytes of it; the notifier adds /listen and /notify.
    applicationName: `agentphone ${nodeName}`.slice(0, 48),
  };
}

/** One connection's settings (URL, TLS, name, connect timeout): the pool's, and the notifier's. */
export function pgConnectionConfig(options: PostgresStoreOptions): pg.ClientConfig {
  return {
    connectionString: options.url,
    ssl: tlsOptions(options.ssl),
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  };
}

/** host:port/database of a connection URL, without user or password. */
export function describeTarget(url: string): string {
  const problem = postgresUrlProblem(url);
  if (problem) throw new StoreError(`${SETTING}.url ${problem}`);
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname || '/'}`;
}

function tlsOptions(ssl: PostgresSslOptions | undefined): ConnectionOptions | false {
  if (!ssl || ssl.mode === 'disable') return false;
  const files: ConnectionOptions = {
    cert: readSetting('certFile', ssl.certFile),
    key: readSetting('keyFile', ssl.keyFile),
  };
  if (ssl.mode === 'require') return { ...files, rejectUnauthorized: false };
  // Node checks the certificate's names against the host (checkServerIdentity) when it verifies.
  return { ...files, ca: readSetting('caFile', ssl.caFile), rejectUnauthorized: true };
}

/** A PEM file named by a store.postgres.ssl setting, read once at open. */
function readSetting(name: 'caFile' | 'certFile' | 'keyFile', file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new StoreError(`${SETTING}.ssl.${name}: cannot read ${file} (${code})`, { cause: err });
  }
}

/**
 * This pool's own parsers (pg's global ones stay untouched): bigint and numeric come back as
 * numbers, as SQLite returns its integers, so a repository's rows have one shape on both
 * dialects. A bigint beyond 2^53 would lose digits, so it fails the query instead.
 */
function typeParsers(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new StoreError(`A bigint from PostgreSQL (${text}) is beyond JavaScript's safe integers`);
    return value;
  });
  types.setTypeParser(pg.types.builtins.NUMERIC, (text: string) => Number(text));
  return types;
}
