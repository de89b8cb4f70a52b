import { AgentPhoneError, ConfigError } from '../errors/index.ts';
import { UsageError, type CliCommand, type CliIo } from './command.ts';
import { keysCommand } from './commands/keys.ts';
import { modemsCommand } from './commands/modems.ts';
import { numbersCommand } from './commands/numbers.ts';
import { modelsCommand } from './commands/models.ts';
import { pduCommand } from './commands/pdu.ts';
import { purgeCommand } from './commands/purge.ts';
import { simCommand } from './commands/sim.ts';
import { startCommand } from './commands/start.ts';
import { usageCommand } from './commands/usage.ts';
import { webhookCommand } from './commands/webhook.ts';
import { optoutCommand } from './commands/optout.ts';
import { voiceCommand } from './commands/voice.ts';
import { backupCommand } from './commands/backup.ts';
import { restoreCommand } from './commands/restore.ts';
import { migrateStoreCommand } from './commands/migrate-store.ts';
import { doctorCommand } from './commands/doctor.ts';
import { mcpCommand } from './commands/mcp.ts';
import { agentphoneVersion } from '../lifecycle/version.ts';

/**
 * Every top-level command. Domains add theirs here. A command module loads its heavy code
 * (config, store, gateway) inside run(), so --help and every other command start fast.
 */
export const COMMANDS: readonly CliCommand[] = [startCommand, numbersCommand, keysCommand, webhookCommand, optoutCommand, usageCommand, modemsCommand, simCommand, pduCommand, modelsCommand, voiceCommand, purgeCommand, backupCommand, restoreCommand, migrateStoreCommand, doctorCommand, mcpCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: agentphone <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json (print exactly one JSON document), --config FILE and --url URL.',
    "Run 'agentphone <command> --help' for a command's usage, 'agentphone --version' for the version.",
  ].join('\n');
}

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`agentphone ${agentphoneVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`agentphone: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`Usage: ${command.usage}\n`);
    return 0;
  }
  const json = args.includes('--json');
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`agentphone ${command.name}: ${err.message}\nUsage: ${command.usage}\n`);
      return 2;
    }
    const known = err instanceof AgentPhoneError;
    const body = {
      error: known ? err.code : 'Internal Error',
      message: err instanceof ConfigError ? err.message : known ? err.message : `Unexpected failure: ${(err as Error).message}`,
    };
    if (json) io.stdout(`${JSON.stringify(body, null, 2)}\n`);
    else io.stderr(`agentphone ${command.name}: ${body.message}\n`);
    return 1;
  }
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};
