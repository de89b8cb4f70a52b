import { readFileSync } from 'node:fs';

/**
 * The version in AgentPhone's package.json, found by walking up from this file: the same
 * answer from src/cli and from dist/src/cli, without importing JSON (experimental in Node 20).
 */
export function agentphoneVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'agentphone' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here (or not readable): keep walking up
    }
    const parent = new URL('..', dir);
    if (parent.href === dir.href) return 'unknown';
    dir = parent;
  }
}
