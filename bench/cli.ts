/**
 * How long an `agentphone` command takes to start, against bare `node -e 0` in the same run:
 * cold processes (one new Node process per run, as an operator's shell starts them), N runs
 * each, medians, and what the command adds over bare Node. Measures the built CLI
 * (src/cli/bin.js running dist/src) and, for comparison, the sources through tsx
 * (src/cli/source-bin.js, what every call cost before the build). `keys create` runs offline
 * against a temp data directory (no gateway answers on its port: the admin routes are served
 * in-process over the local store, as an operator's first `keys create` is); its store is made
 * by one untimed run first, so the runs measure start-up, not the first migration.
 * Run with `npm run bench:cli` (after `npm run build`); `-- --runs N` to change N (default 15).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);
const ROOT = join(import.meta.dirname, '..');
const BUILT = join(ROOT, 'src', 'cli', 'bin.js');
const SOURCES = join(ROOT, 'src', 'cli', 'source-bin.js');
const dataDir = mkdtempSync(join(tmpdir(), 'agentphone-bench-cli-'));
// Port 1: nothing listens there, so keys create takes the offline path without a timeout.
const env = { PATH: process.env.PATH, AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_PORT: '1' };

function once(args: string[]): number {
  const started = performance.now();
  const res = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (res.status !== 0) throw new Error(`node ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  if (args[0] === BUILT && res.stderr !== '') throw new Error(`the built CLI did not run from dist (${res.stderr.trim()}); run npm run build first`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['agentphone --help (dist)', [BUILT, '--help']],
  ['agentphone keys create (dist)', [BUILT, 'keys', 'create', '--name', 'bench']],
  ['agentphone --help (sources, tsx)', [SOURCES, '--help']],
  ['agentphone keys create (sources, tsx)', [SOURCES, 'keys', 'create', '--name', 'bench']],
];

try {
  once([BUILT, 'keys', 'create', '--name', 'warm-up']);
  const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  // Interleaved, so a busy moment on the machine falls on every case alike.
  for (let i = 0; i < RUNS; i++) for (const [name, args] of cases) times.get(name)?.push(once(args));
  const bare = median(times.get('node -e 0') ?? []);
  console.log(`${RUNS} cold runs each, medians (${process.version}, ${process.platform}/${process.arch})`);
  for (const [name] of cases) {
    const m = median(times.get(name) ?? []);
    const over = name === 'node -e 0' ? '' : `  +${(m - bare).toFixed(0).padStart(5)} ms over node (${(m / bare).toFixed(1)}x)`;
    console.log(`  ${name.padEnd(40)} ${m.toFixed(0).padStart(6)} ms${over}`);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
