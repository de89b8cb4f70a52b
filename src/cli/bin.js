#!/usr/bin/env node
// The agentphone command. Runs the TypeScript sources through tsx, so `npm install` is all
// the build a checkout needs.
import { register } from 'tsx/esm/api';

register();
const { runCli, processIo } = await import('./main.ts');
const code = await runCli(process.argv.slice(2), processIo);
// `start` resolves only after a clean shutdown; everything else exits with its code.
process.exitCode = code;
