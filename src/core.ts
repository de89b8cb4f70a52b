import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApp, type App, type AppDeps, type RouteRegistrar } from './api/index.ts';
import { ApiKeyService, ensureAdminToken } from './auth/index.ts';
import { systemClock, type Clock } from './clock/index.ts';
import type { Config } from './config/index.ts';
import type { Logger } from './logging/index.ts';
import { NumberService } from './numbers/index.ts';
import { ApiKeysRepository, DATABASE_FILE, NumbersRepository, openDatabase, type Db } from './store/index.ts';

/** The store and the services built on it: everything but hardware and listening sockets. */
export interface Core {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  db: Db;
  metrics: Registry;
  adminToken: string;
  numbers: NumberService;
  apiKeys: ApiKeyService;
  close(): void;
}

export function createCore(config: Readonly<Config>, logger: Logger, clock: Clock = systemClock): Core {
  const db = openDatabase(join(config.dataDir, DATABASE_FILE));
  const { token, generated } = ensureAdminToken(config.dataDir, config.adminToken);
  if (generated) logger.info({ file: join(config.dataDir, 'admin-token') }, 'generated admin token');
  const numbersRepo = new NumbersRepository(db);
  const metrics = new Registry();
  return {
    config,
    logger,
    clock,
    db,
    metrics,
    adminToken: token,
    numbers: new NumberService(numbersRepo, clock, config.numbers),
    apiKeys: new ApiKeyService(new ApiKeysRepository(db), numbersRepo, clock),
    close: () => db.close(),
  };
}

export function buildCoreApp(
  core: Core,
  extra: { health?: AppDeps['health']; apiRoutes?: RouteRegistrar[]; adminRoutes?: RouteRegistrar[]; defaultMetrics?: boolean } = {},
): Promise<App> {
  if (extra.defaultMetrics) collectDefaultMetrics({ register: core.metrics, prefix: 'agentphone_' });
  return buildApp({
    config: core.config,
    logger: core.logger,
    numbers: core.numbers,
    apiKeys: core.apiKeys,
    adminToken: core.adminToken,
    metrics: core.metrics,
    ...(extra.health && { health: extra.health }),
    ...(extra.apiRoutes && { apiRoutes: extra.apiRoutes }),
    ...(extra.adminRoutes && { adminRoutes: extra.adminRoutes }),
  });
}
