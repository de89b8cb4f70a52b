#!/usr/bin/env node
// Transpiles src/ (TypeScript) to dist/src/ (JavaScript) so the agentphone command and the
// gateway start without compiling anything. esbuild strips the types file by file (no
// bundling, no type check: `npm run typecheck` does that), so every module keeps its path and
// the worker threads, runner URLs and migrations are found exactly as from the sources.
// What the build changes beyond the types, and checks after:
//   - relative module specifiers `./x.ts` become `./x.js` (imports, dynamic imports and
//     `new URL('./x.ts', import.meta.url)` worker/runner references);
//   - the thread entry files (*.mjs) lose their `register()` of tsx: dist runs without it;
//   - dist/hardware and dist/native link to the repository's, since sources reach them as
//     `../../hardware/...` and one level deeper in dist/ the same path must still resolve;
//   - the pure-ESM packages that are slow to load file by file (VENDORED: typebox is ~700
//     small modules, a third of a second before any command runs) are bundled once into
//     dist/src/vendor/ (esbuild, code splitting, so typebox and typebox/value share one copy)
//     and dist's imports of them point there; the sources keep importing node_modules. Only
//     ESM packages qualify: a CommonJS one bundles to a default export alone (yaml's does);
//   - every relative reference in the output must name a file that exists, and nothing in
//     dist/src may import tsx, or the build fails.
// dist/src/.build-stamp records when it was built: src/cli/bin.js runs dist only while no
// source file is newer.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'src');
/** Front-end sources: vite builds them (npm run build:dashboard), not this. */
const SKIP = [join(SRC, 'dashboard', 'web'), join(SRC, 'dashboard', 'vite.config.ts')];
/** Repository folders the sources reach by relative path. */
const LINKED = ['hardware', 'native'];
const SPECIFIER = /((?:\bfrom|\bimport)\s*\(?\s*|\bnew URL\(\s*)(["'])(\.{1,2}\/[^"'\n]+?)\.ts\2/g;
const REFERENCE = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"'\n]+)["']|\bnew URL\(\s*["'](\.{1,2}\/[^"'\n]+)["']\s*,\s*import\.meta\.url/g;

function sources() {
  return readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !SKIP.some((s) => f === s || f.startsWith(`${s}/`))
      // The launchers (bin.js and its helpers) stay in src/cli and choose between dist and the sources.
      && !(dirname(f) === join(SRC, 'cli') && f.endsWith('.js')));
}

const toJs = (text) => text.replace(SPECIFIER, (_m, head, q, path) => `${head}${q}${path}.js${q}`);

/** Packages bundled into dist/src/vendor: ESM JavaScript, no native parts, no state shared with other packages. */
const VENDORED = ['typebox'];
const VENDOR_DIR = 'vendor';
const BARE = new RegExp(`((?:\\bfrom|\\bimport)\\s*\\(?\\s*)(["'])((?:${VENDORED.join('|')})(?:/[^"'\\n]*)?)\\2`, 'g');
const vendorFile = (specifier) => `${specifier.replaceAll('/', '-')}.js`;

/** Bundles every vendored specifier dist imports into staging/vendor (shared chunks keep one copy of each module). */
async function bundleVendored(texts, staging) {
  const specifiers = new Set();
  for (const text of texts) for (const m of text.matchAll(BARE)) specifiers.add(m[3]);
  if (specifiers.size === 0) return;
  await build({
    entryPoints: Object.fromEntries([...specifiers].map((s) => [vendorFile(s).slice(0, -3), fileURLToPath(import.meta.resolve(s))])),
    outdir: join(staging, VENDOR_DIR),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    logLevel: 'error',
  });
}

/** `from 'typebox/value'` in dist/src/x/y.js becomes `from '../vendor/typebox-value.js'`. */
function toVendored(text, outFile, staging) {
  return text.replace(BARE, (_m, head, q, specifier) => {
    const rel = relative(dirname(outFile), join(staging, VENDOR_DIR, vendorFile(specifier)));
    return `${head}${q}${rel.startsWith('.') ? rel : `./${rel}`}${q}`;
  });
}

/** A thread entry file without its tsx registration. */
function entryForDist(text, file) {
  const out = toJs(text)
    .replace(/^import \{ register \} from ['"]tsx\/esm\/api['"];?\n/m, '')
    .replace(/^register\(\);?\n/m, '');
  if (/tsx/.test(out.replace(/\/\/.*$/gm, ''))) throw new Error(`${relative(ROOT, file)}: cannot drop its tsx registration for dist; keep it to "import { register } from 'tsx/esm/api'; register();"`);
  return out;
}

const started = performance.now();
const files = sources();
const staging = join(DIST, '.src-new');
rmSync(staging, { recursive: true, force: true });
const ts = files.filter((f) => f.endsWith('.ts'));
const result = await build({
  entryPoints: ts,
  outdir: staging,
  outbase: SRC,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  write: false,
  logLevel: 'error',
  tsconfig: join(ROOT, 'tsconfig.json'),
});
if (existsSync(join(SRC, VENDOR_DIR))) throw new Error(`src/${VENDOR_DIR} would collide with the vendored bundles in dist/src/${VENDOR_DIR}`);
const outputs = [
  ...result.outputFiles.map((out) => ({ path: out.path, text: toJs(out.text) })),
  ...files.filter((f) => !f.endsWith('.ts')).map((file) => ({ path: join(staging, relative(SRC, file)), text: entryForDist(readFileSync(file, 'utf8'), file) })),
];
await bundleVendored(outputs.map((o) => o.text), staging);
for (const out of outputs) {
  mkdirSync(dirname(out.path), { recursive: true });
  writeFileSync(out.path, toVendored(out.text, out.path, staging));
}

// Every relative reference must resolve inside the output (or through the linked folders).
for (const link of LINKED) {
  const at = join(DIST, link);
  rmSync(at, { recursive: true, force: true });
  symlinkSync(join('..', link), at);
}
const broken = [];
for (const entry of readdirSync(staging, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(m?js)$/.test(entry.name)) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  if (/(?:from|import)\s*\(?\s*["']tsx(?:\/[^"']*)?["']/.test(text)) broken.push(`${relative(staging, file)} imports tsx`);
  for (const m of text.matchAll(REFERENCE)) {
    const ref = m[1] ?? m[2];
    // Paths are checked as they will lie once dist/.src-new is dist/src.
    const lied = resolve(OUT, relative(staging, dirname(file)), ref);
    const staged = lied.startsWith(`${OUT}/`) ? join(staging, relative(OUT, lied)) : lied;
    if (!existsSync(staged)) broken.push(`${relative(staging, file)}: ${ref} does not exist in dist`);
  }
}
if (broken.length > 0) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build: dist would not run:\n  ${broken.join('\n  ')}`);
  process.exit(1);
}
writeFileSync(join(staging, '.build-stamp'), `${new Date().toISOString()}\n`);
// Swap in whole, so a command started meanwhile sees the old tree or the new one.
const old = join(DIST, '.src-old');
rmSync(old, { recursive: true, force: true });
if (existsSync(OUT)) renameSync(OUT, old);
renameSync(staging, OUT);
rmSync(old, { recursive: true, force: true });
console.log(`build: ${files.length} files to dist/src in ${Math.round(performance.now() - started)} ms`);
