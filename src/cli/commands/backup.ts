import { resolve } from 'node:path';
import type { Config } from '../../config/index.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, printResult, type CliCommand, type CliIo } from '../command.ts';

/** What backup and restore both take: one FILE (made absolute) and the config. */
export async function fileCommandArgs(args: readonly string[], io: CliIo, verb: string): Promise<{ json: boolean; file: string; config: Readonly<Config> }> {
  const { values, positionals } = parseCommandArgs(args, {});
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError(`${verb} needs a FILE`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  // Loaded when run, so --help and the other commands start without the config and store code.
  const { loadConfig } = await import('../../config/index.ts');
  const config = loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() });
  // Both copy the embedded SQLite store; a PostgreSQL one is backed up with PostgreSQL's own tools.
  if (config.store.postgres.url !== null) {
    throw new UsageError(`${verb} copies the embedded SQLite store, but store.postgres.url is set: back up the PostgreSQL database with pg_dump (or your service's snapshots), and each node's data dir with your file backups`);
  }
  return { json: values.json, file: resolve(file), config };
}

export const backupCommand: CliCommand = {
  name: 'backup',
  summary: 'Write a consistent backup of the store and its media to FILE (safe while the gateway runs)',
  usage: 'agentphone backup FILE [--config FILE] [--json]',
  async run(args, io) {
    const { json, file, config } = await fileCommandArgs(args, io, 'backup');
    const { backupDataDir } = await import('../../store/index.ts');
    const result = await backupDataDir(config.dataDir, file);
    printResult(io, json, result, () =>
      [
        `Backed up ${config.dataDir} to ${file} (${result.bytes} bytes, schema version ${result.schemaVersion}):`,
        `  messages     ${result.messages}`,
        `  media files  ${result.mediaFiles}${result.mediaMissing > 0 ? ` (${result.mediaMissing} already gone from disk, not included)` : ''}`,
        'Not included: the secrets key (keep it with the backup, elsewhere), the admin token, models.',
      ].join('\n'),
    );
    return 0;
  },
};
