import type { App } from '../../src/api/index.ts';
import { validateConfig, type Config } from '../../src/config/index.ts';
import { buildCoreApp, createCore, type Core } from '../../src/core.ts';
import { silentLogger } from '../../src/logging/index.ts';

/** A core (real SQLite file in dataDir) and its app, not listening. */
export async function testApp(dataDir: string, overrides: Record<string, unknown> = {}): Promise<{ core: Core; app: App; config: Config }> {
  const config = validateConfig({ dataDir, adminToken: 'test-admin-token-0123456789', ...overrides });
  const core = await createCore(config, silentLogger());
  const app = await buildCoreApp(core);
  return { core, app, config };
}
