import { resolve } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { backupDataDir } from '../../store/index.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, printResult, type CliCommand } from '../command.ts';

/** The one positional FILE both backup and restore take. */
export function fileArgument(positionals: readonly string[], verb: string): string {
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError(`${verb} needs a FILE`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return resolve(file);
}

export const backupCommand: CliCommand = {
  name: 'backup',
  summary: 'Write a consistent backup of the store and its media to FILE (safe while the gateway runs)',
  usage: 'agentphone backup FILE [--config FILE] [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {});
    const file = fileArgument(positionals, 'backup');
    const config = loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() });
    const result = await backupDataDir(config.dataDir, file);
    printResult(io, values.json, result, () =>
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
