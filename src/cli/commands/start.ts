import { loadConfig, type Config } from '../../config/index.ts';
import { startGateway, type Gateway } from '../../gateway.ts';
import { createLogger, type Logger } from '../../logging/index.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { describeStartupError } from '../startup-errors.ts';

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'Run the gateway (what npm start runs)',
  usage: 'agentphone start [--config FILE]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let config: Readonly<Config> | undefined;
    let logger: Logger;
    let gateway: Gateway;
    try {
      config = loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() });
      logger = createLogger({ level: config.log.level });
      gateway = await startGateway(config, logger);
    } catch (err) {
      // Every start-up failure ends here: one clear line (the config's problems, one each), exit 1.
      io.stderr(`agentphone start: ${describeStartupError(err, config && { host: config.server.host, port: config.server.port, dataDir: config.dataDir })}\n`);
      return 1;
    }
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
