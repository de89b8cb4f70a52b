import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresSslMode } from '../../store/index.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, printResult, type CliCommand, type CliIo } from '../command.ts';

const DEFAULT_BATCH_ROWS = 1000;
const SSL_MODES: readonly PostgresSslMode[] = ['disable', 'require', 'verify-full'];

interface MigrateStoreArgs {
  readonly json: boolean;
  readonly to: string;
  readonly sslMode: PostgresSslMode;
  readonly sslCa: string | undefined;
  readonly batchRows: number;
  readonly configPath: string | undefined;
}

function parse(args: readonly string[]): MigrateStoreArgs {
  const { values, positionals } = parseCommandArgs(
    args,
    { to: { type: 'string' }, 'ssl-mode': { type: 'string' }, 'ssl-ca': { type: 'string' }, batch: { type: 'string' } },
    false,
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.to === undefined) throw new UsageError('migrate-store needs --to postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  const sslMode = (values['ssl-mode'] ?? (values['ssl-ca'] === undefined ? 'disable' : 'verify-full')) as PostgresSslMode;
  if (!SSL_MODES.includes(sslMode)) throw new UsageError(`--ssl-mode must be one of ${SSL_MODES.join(', ')}`);
  if (values['ssl-ca'] !== undefined && sslMode !== 'verify-full') throw new UsageError('--ssl-ca needs --ssl-mode verify-full');
  const batchRows = values.batch === undefined ? DEFAULT_BATCH_ROWS : Number(values.batch);
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new UsageError('--batch must be a positive integer (rows per INSERT)');
  return { json: values.json, to: values.to, sslMode, sslCa: values['ssl-ca'], batchRows, configPath: values.config };
}

/** Files under `dir` (recursively); 0 when it does not exist. */
function countFiles(dir: string): number {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

export const migrateStoreCommand: CliCommand = {
  name: 'migrate-store',
  summary: "Copy a stopped gateway's SQLite store into an empty PostgreSQL database",
  usage: 'agentphone migrate-store --to postgres://USER:PASSWORD@HOST:PORT/DATABASE [--ssl-mode disable|require|verify-full] [--ssl-ca FILE] [--batch N] [--config FILE] [--json]',
  async run(args: readonly string[], io: CliIo) {
    const opts = parse(args);
    // Loaded when run, so --help and the other commands start without the config and store code.
    const [{ loadConfig }, { acquireDataDirLock }, store] = await Promise.all([
      import('../../config/index.ts'),
      import('../../lifecycle/index.ts'),
      import('../../store/index.ts'),
    ]);
    const config = loadConfig({ configPath: opts.configPath, env: io.env, cwd: process.cwd() });
    const where = store.describeTarget(opts.to);
    const file = join(config.dataDir, store.DATABASE_FILE);
    // Fails early (before the lock file is made) when there is no store to copy.
    store.openSqliteAtVersion(file, store.MIGRATIONS).close();
    // Held for the whole copy: a running gateway refuses it, and no gateway starts mid-way.
    const lock = acquireDataDirLock(config.dataDir);
    try {
      const source = store.openSqliteAtVersion(file, store.MIGRATIONS);
      try {
        const target = await store.openPostgresStore({
          url: opts.to,
          ssl: { mode: opts.sslMode, caFile: opts.sslCa },
          poolSize: 1,
          applicationName: 'agentphone migrate-store',
        });
        try {
          const migrated = await store.migratePostgres(target, store.PG_MIGRATIONS);
          const dir = store.mediaDir(config.dataDir);
          // The target is PostgreSQL: media.store "auto" keeps media in the database there.
          const intoDatabase = config.media.store !== 'files';
          const { mediaFiles, ...copy } = await store.copySqliteToPostgres(source, target, opts.batchRows, intoDatabase ? { mediaFilesFrom: dir } : {});
          const files = mediaFiles ? 0 : countFiles(dir);
          const media = mediaFiles ? { dir, store: 'database', ...mediaFiles } : { dir, store: 'files', files };
          printResult(io, opts.json, { source: file, target: where, migrationsApplied: migrated, ...copy, media }, () =>
            [
              `Copied ${file} into PostgreSQL at ${where}:`,
              ...copy.tables.map((t) => `${t.table}: ${t.rows} rows`),
              `total: ${copy.totalRows} rows in ${copy.tables.length} tables`,
              ...(mediaFiles
                ? [
                    `Media: ${mediaFiles.copied} files (${mediaFiles.bytes} bytes) under ${dir} copied into the database (media_blobs); every node serves them.`,
                    ...(mediaFiles.missing > 0 ? [`${mediaFiles.missing} media rows had no file there (expired or purged) and stay without bytes, as before.`] : []),
                  ]
                : [
                    `media.store is files: the ${files} files under ${dir} stay there, not in the database.`,
                    'Copy that directory to the node that will serve them (docs/cluster.md).',
                  ]),
            ].join('\n'),
          );
          return 0;
        } finally {
          await target.close();
        }
      } finally {
        source.close();
      }
    } finally {
      lock.release();
    }
  },
};
