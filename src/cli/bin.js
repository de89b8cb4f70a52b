#!/usr/bin/env node
// The agentphone command. Runs the TypeScript sources through tsx, so `npm install` is all
// the build a checkout needs.
import { register } from 'tsx/esm/api';

register();
const { runCli, processIo } = await import('./main.ts');
const code = await runCli(process.argv.slice(2), processIo);
if (process.argv[2] === 'start') {
  // The gateway has stopped cleanly: leave now, whatever device handles linger.
  process.exit(code);
}
// Other commands end when their output is flushed.
process.exitCode = code;
