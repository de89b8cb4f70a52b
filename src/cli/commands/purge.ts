import { join } from 'node:path';
import { parseCommandArgs } from '../args.ts';
import { UsageError, printResult, type CliCommand } from '../command.ts';
import type { Database } from '../../store/sql/database.ts';

const WHAT = ['all', 'messages', 'transcripts'] as const;

/** A date (2026-01-31, midnight UTC) or an ISO instant; anything else is a usage error. */
function parseBefore(text: string | undefined): number {
  if (text === undefined) throw new UsageError('purge needs --before DATE (e.g. --before 2026-01-31)');
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`--before "${text}" is not a date (YYYY-MM-DD or an ISO 8601 time)`);
  return ms;
}

export const purgeCommand: CliCommand = {
  name: 'purge',
  summary: 'Delete stored messages, their media and call transcripts older than a date',
  usage: 'agentphone purge --before DATE [--only messages|transcripts] [--config FILE] [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { before: { type: 'string' }, only: { type: 'string', default: 'all' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const beforeMs = parseBefore(values.before);
    const only = values.only as (typeof WHAT)[number];
    if (!WHAT.includes(only)) throw new UsageError(`--only must be messages or transcripts, not "${values.only}"`);
    // Loaded when run, so --help and the other commands start without the store's code.
    const [{ loadConfig }, { DATABASE_FILE, mediaDir, openDatabase, purgeStored, sqliteSqlStore }] = await Promise.all([import('../../config/index.ts'), import('../../store/index.ts')]);
    const config = loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() });
    const db = openDatabase(join(config.dataDir, DATABASE_FILE));
    const store = sqliteSqlStore<Database>(db);
    try {
      const counts = await purgeStored(store, mediaDir(config.dataDir), {
        ...(only !== 'transcripts' && { messagesBeforeMs: beforeMs }),
        ...(only !== 'messages' && { transcriptsBeforeMs: beforeMs }),
      });
      const before = new Date(beforeMs).toISOString();
      printResult(io, values.json, { before, ...counts }, () =>
        [
          `Purged what was stored before ${before}:`,
          `  messages          ${counts.messages}`,
          `  webhook deliveries ${counts.deliveries}`,
          `  media             ${counts.media} (${counts.mediaFiles} files)`,
          `  inbound records   ${counts.inboundRecords}`,
          `  call transcripts  ${counts.callTranscripts} turns`,
        ].join('\n'),
      );
      return 0;
    } finally {
      await store.close();
      db.close();
    }
  },
};
