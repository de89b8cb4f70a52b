// Whether dist/src (scripts/build-dist.mjs) is there and newer than every source file.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SRC = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(SRC, '..');
const STAMP = join(ROOT, 'dist', 'src', '.build-stamp');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** What the build compiles: front-end sources go through vite instead. */
const SOURCE = /\.(ts|mjs|js)$/;

/** @returns {{ main: string } | { main?: undefined, reason: string }} */
export function builtCli() {
  let builtMs;
  try {
    builtMs = statSync(STAMP).mtimeMs;
  } catch {
    return { reason: 'dist/src is not built' };
  }
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !SOURCE.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    if (file.includes('/dashboard/web/')) continue;
    if (statSync(file).mtimeMs > builtMs) return { reason: `dist/src is older than ${file.slice(ROOT.length + 1)}` };
  }
  return { main: pathToFileURL(MAIN).href };
}
