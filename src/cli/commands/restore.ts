import { printResult, type CliCommand } from '../command.ts';
import { fileCommandArgs } from './backup.ts';

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'Replace the store with a backup made by agentphone backup (the gateway must be stopped)',
  usage: 'agentphone restore FILE [--config FILE] [--json]',
  async run(args, io) {
    const { json, file, config } = await fileCommandArgs(args, io, 'restore');
    const [{ acquireDataDirLock }, { ensurePrivateDir, restoreDataDir }] = await Promise.all([import('../../lifecycle/index.ts'), import('../../store/index.ts')]);
    ensurePrivateDir(config.dataDir);
    // Held for the whole restore: a running gateway refuses it, and no gateway starts mid-way.
    const lock = acquireDataDirLock(config.dataDir);
    try {
      const result = restoreDataDir(config.dataDir, file);
      printResult(io, json, { file, ...result }, () =>
        [
          `Restored ${file} into ${config.dataDir} (schema version ${result.schemaVersion}):`,
          `  messages     ${result.messages}`,
          `  media files  ${result.mediaFiles}`,
          'Start the gateway to apply any newer migrations.',
        ].join('\n'),
      );
      return 0;
    } finally {
      lock.release();
    }
  },
};
