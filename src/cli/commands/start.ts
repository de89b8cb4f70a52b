import type { Config } from '../../config/index.ts';
import type { Gateway } from '../../gateway.ts';
import { acquireDataDirLock, probeListen, type DataDirLock } from '../../lifecycle/index.ts';
import { createLogger, type Logger } from '../../logging/index.ts';
import { ensurePrivateDir } from '../../store/index.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand, type CliIo } from '../command.ts';
import { describeStartupError } from '../startup-errors.ts';

/** How often a gateway started by npm checks that npm is still there. */
const PARENT_CHECK_MS = 1000;

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'Run the gateway (what npm start runs)',
  usage: 'agentphone start [--config FILE]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {});
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let config: Readonly<Config> | undefined;
    let logger: Logger;
    let lock: DataDirLock | undefined;
    let gateway: Gateway;
    // Installed before start-up, so a stop asked for while it runs is honoured once it is done.
    const stopAsked = stopSignals(io, () => lock?.release());
    try {
      // Loaded here, not at the top, so every other command and --help start without the gateway's code.
      const [{ loadConfig }, { startGateway }] = await Promise.all([import('../../config/index.ts'), import('../../gateway.ts')]);
      config = loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() });
      logger = createLogger({ level: config.log.level });
      // The lock comes first: a second gateway must not touch the store, the modems or the port.
      ensurePrivateDir(config.dataDir);
      lock = acquireDataDirLock(config.dataDir);
      if (lock.takenOverFrom !== undefined) logger.warn({ holderPid: lock.takenOverFrom }, 'data directory was left locked by a gateway that died; taken over');
      await probeListen(config.server.host, config.server.port);
      gateway = await startGateway(config, logger);
    } catch (err) {
      lock?.release();
      stopAsked.dispose();
      // Every start-up failure ends here: one clear line (the config's problems, one each), exit 1.
      io.stderr(`agentphone start: ${describeStartupError(err, config && { host: config.server.host, port: config.server.port, dataDir: config.dataDir })}\n`);
      return 1;
    }
    io.stderr(`AgentPhone listening on ${gateway.url} (data: ${config.dataDir})\n`);
    // SIGHUP: a renewed certificate (server.tls) for new connections; open ones keep theirs.
    const reloadTls = (): void => {
      try {
        gateway.reloadTls();
      } catch (err) {
        logger.error({ err }, 'TLS reload failed; still serving the previous certificate');
      }
    };
    process.on('SIGHUP', reloadTls);
    // Under `npm start`, npm is the parent: when it is killed its shell dies and would leave the
    // gateway running without it. Stop then too. (A service manager runs node directly.)
    const parent = process.ppid;
    const orphanCheck = io.env.npm_lifecycle_event === 'start' ? setInterval(() => process.ppid !== parent && stopAsked.stop('parent exited'), PARENT_CHECK_MS) : undefined;
    orphanCheck?.unref();
    const reason = await stopAsked.asked;
    process.off('SIGHUP', reloadTls);
    clearInterval(orphanCheck);
    logger.info({ reason }, 'stopping');
    try {
      await gateway.stop();
    } catch (err) {
      logger.error({ err }, 'error while stopping');
    }
    lock.release();
    stopAsked.dispose();
    return 0;
  },
};

interface StopRequests {
  /** Resolves with the reason (a signal name) at the first stop request. */
  asked: Promise<string>;
  stop(reason: string): void;
  dispose(): void;
}

/**
 * SIGINT/SIGTERM ask for a clean stop; a second one while stopping ends the process at once,
 * by that signal's default action (so the exit status says which, as a shell expects).
 */
function stopSignals(io: CliIo, onForcedExit: () => void): StopRequests {
  let resolveAsked: (reason: string) => void = () => undefined;
  const asked = new Promise<string>((resolve) => (resolveAsked = resolve));
  let stopping = false;
  const stop = (reason: string): void => {
    if (!stopping) {
      stopping = true;
      resolveAsked(reason);
      return;
    }
    io.stderr(`agentphone start: ${reason} while stopping: exiting now without waiting for the stop to finish\n`);
    onForcedExit();
    dispose();
    process.kill(process.pid, reason === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { asked, stop, dispose };
}
