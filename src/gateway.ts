import type { App } from './api/index.ts';
import type { Config } from './config/index.ts';
import { buildCoreApp, createCore, type Core } from './core.ts';
import type { Logger } from './logging/index.ts';

export interface Gateway {
  core: Core;
  app: App;
  /** The address it listens on, e.g. http://127.0.0.1:3000 */
  url: string;
  stop(): Promise<void>;
}

/** The composition root: store, services, lines, HTTP. */
export async function startGateway(config: Readonly<Config>, logger: Logger): Promise<Gateway> {
  const core = createCore(config, logger);
  try {
    for (const line of config.virtual.enabled === true || (config.virtual.enabled === 'auto' && config.modems.length === 0)
      ? config.virtual.lines
      : []) {
      core.numbers.lineFound(line.id, line.number);
    }
    const app = await buildCoreApp(core, {
      defaultMetrics: true,
      health: () => ({ status: 'ok', numbers: core.numbers.list().length }),
    });
    const url = await app.listen({ host: config.server.host, port: config.server.port });
    logger.info({ url, dataDir: config.dataDir }, 'AgentPhone gateway listening');
    return {
      core,
      app,
      url,
      async stop() {
        await app.close();
        core.close();
      },
    };
  } catch (err) {
    core.close();
    throw err;
  }
}
