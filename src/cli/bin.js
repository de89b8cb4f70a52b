#!/usr/bin/env node
// The agentphone command. Runs the JavaScript that `npm install` (the prepare script, or
// `npm run build`) put in dist/src. When dist/src is missing or older than a source file (a
// `git pull` without a build, an edit), it says so in one line on stderr and runs the
// TypeScript sources through tsx instead: the same behaviour, seconds slower to start.
import { writeSync } from 'node:fs';
import { builtCli } from './dist-check.js';
import { launch, loadSources } from './launch.js';

const built = builtCli();
if (built.main) {
  const main = built.main;
  await launch(() => import(main), 'the built AgentPhone files in dist/src');
} else {
  writeSync(2, `agentphone: ${built.reason}; running the TypeScript sources through tsx (slower start; \`npm run build\` fixes it)\n`);
  await launch(loadSources, 'the AgentPhone sources');
}
