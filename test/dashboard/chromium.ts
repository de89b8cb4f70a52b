import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/** Debian's chromium package; suites using it run under describeWithTool(…, hasCommand(CHROMIUM), …). */
export const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots of every page, kept as test artifacts (dist/ is gitignored). */
export const SHOTS = join(ROOT, 'dist/test-artifacts/dashboard');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The suite drives the built dashboard; build it when `npm install` has not (e.g. a fresh checkout with --ignore-scripts). */
async function ensureBuilt(): Promise<void> {
  if (existsSync(join(ROOT, 'dist/dashboard/index.html'))) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'src/dashboard/vite.config.ts') });
}

/** One headless Chromium (its own profile) for a describe block: the context, its page and a screenshot helper. */
export function useChromium(): { context: () => BrowserContext; page: () => Page; shot: (name: string) => Promise<Buffer> } {
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let profile: string | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'agentphone-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 860 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });
  return {
    context: () => context as BrowserContext,
    page: () => page as Page,
    shot: (name) => (page as Page).screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }),
  };
}
