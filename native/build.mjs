// Builds the PTY addon with the node-gyp that npm bundles. Uses the local Node headers
// when the installed Node ships them, so `npm install` works offline.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const prefix = dirname(dirname(process.execPath));
const args = ['rebuild', '-C', here];
if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${prefix}`);

const gypJs = process.env.npm_config_node_gyp;
const result = gypJs && existsSync(gypJs)
  ? spawnSync(process.execPath, [gypJs, ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit', shell: process.platform === 'win32' });
if (result.error) console.error(`node-gyp could not run: ${result.error.message}`);
process.exit(result.status ?? 1);
