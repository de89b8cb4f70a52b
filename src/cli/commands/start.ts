import { loadConfig } from '../../config/index.ts';
import { startGateway } from '../../gateway.ts';
import { createLogger } from '../../logging/index.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'Run the gateway (what npm start runs)',
  usage: 'agentphone start [--config FILE]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const config = loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() });
    const logger = createLogger({ level: config.log.level });
    const gateway = await startGateway(config, logger);
    io.stderr(`AgentPhone listening on ${gateway.url} (data: ${config.dataDir})\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping');
        gateway.stop().then(resolve, (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  },
};
