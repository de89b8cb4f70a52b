import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binProcess, type CliResult } from '../helpers/cli.ts';

const REPO = join(import.meta.dirname, '..', '..');

/** Runs `node <checkout>/src/cli/bin.js ...` as an operator would. */
const run = (checkout: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> => binProcess(join(checkout, 'src', 'cli', 'bin.js'), args, env);

// A copy of the checkout (sources, build script; node_modules, hardware and native linked) is
// built with the real build script, so the shared dist/ is never touched and the test does not
// depend on whether someone ran `npm run build`.
describe('the agentphone command runs the built JavaScript (real build, real processes)', { timeout: 120_000 }, () => {
  let checkout: string;
  beforeAll(() => {
    checkout = mkdtempSync(join(tmpdir(), 'agentphone-built-'));
    for (const path of ['src', 'scripts/build-dist.mjs', 'package.json', 'tsconfig.json']) cpSync(join(REPO, path), join(checkout, path), { recursive: true });
    for (const path of ['node_modules', 'hardware', 'native']) symlinkSync(join(REPO, path), join(checkout, path));
    execFileSync(process.execPath, [join(checkout, 'scripts', 'build-dist.mjs')], { stdio: 'pipe' });
  });
  afterAll(() => rmSync(checkout, { recursive: true, force: true }));

  it('--version prints the package.json version from dist, without a notice', async () => {
    const res = await run(checkout, ['--version']);
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(res).toEqual({ code: 0, stdout: `agentphone ${version}\n`, stderr: '' });
  });

  it('keys create works offline against a fresh data directory from dist', async () => {
    const dataDir = join(checkout, 'data');
    const res = await run(checkout, ['keys', 'create', '--name', 'built', '--json'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_PORT: '1' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout) as { key: string; name: string };
    expect(body.name).toBe('built');
    expect(body.key).toMatch(/^agp_/);
  });

  it('imports typebox from its one bundled copy in dist/src/vendor, never file by file from node_modules', () => {
    const dist = join(checkout, 'dist', 'src');
    const bare: string[] = [];
    for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.js') || entry.parentPath.startsWith(join(dist, 'vendor'))) continue;
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
      if (/(?:\bfrom|\bimport)\s*\(?\s*["']typebox(?:\/[^"']*)?["']/.test(text)) bare.push(entry.name);
    }
    expect(bare).toEqual([]);
    expect(existsSync(join(dist, 'vendor', 'typebox.js')) && existsSync(join(dist, 'vendor', 'typebox-value.js'))).toBe(true);
    expect(readFileSync(join(dist, 'config', 'load.js'), 'utf8')).toContain('from "../vendor/typebox-value.js"');
  });

  it('a source newer than the build: one notice, then the same command from the sources', async () => {
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(checkout, 'src', 'cli', 'args.ts'), future, future);
    const res = await run(checkout, ['--version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^agentphone \d+\.\d+\.\d+/);
    expect(res.stderr.trim().split('\n')).toEqual(['agentphone: dist/src is older than src/cli/args.ts; running the TypeScript sources through tsx (slower start; `npm run build` fixes it)']);
  });
});
