// Runs one agentphone invocation from a loaded CLI module (the built dist/ or the sources)
// and ends the process the way each command needs.
import { writeSync } from 'node:fs';

/**
 * @param {() => Promise<{ runCli: (argv: string[], io: unknown) => Promise<number>, processIo: unknown }>} load
 * @param {string} what what is being loaded, for the message when it cannot be
 */
export async function launch(load, what) {
  const command = process.argv[2] ?? '';
  let settled = false;
  // Node ends a process whose top-level await can never settle (every handle gone, a promise
  // nobody will resolve) with exit code 13 and no word. That is a bug, but the operator must
  // still learn that the command did not finish and what to do.
  process.on('exit', () => {
    if (settled) return;
    writeSync(2, `agentphone ${command}: stopped before finishing: a step was left waiting on nothing; run again with AGENTPHONE_LOG_LEVEL=debug and report the last log lines\n`);
  });

  let code;
  try {
    const { runCli, processIo } = await load();
    code = await runCli(process.argv.slice(2), processIo);
  } catch (err) {
    // runCli never throws; this is the code failing to load (a broken checkout or install).
    // esbuild puts the file and line on the message's second line.
    const detail = err instanceof Error ? err.message.split('\n').filter((l) => l.trim() !== '').slice(0, 2).join(' ') : String(err);
    writeSync(2, `agentphone: cannot load ${what}: ${detail}; fix the file named or run npm install in the checkout\n`);
    code = 1;
  }
  settled = true;
  if (command === 'start') {
    // The gateway has stopped cleanly: leave now, whatever device handles linger.
    process.exit(code);
  }
  // Other commands end when their output is flushed.
  process.exitCode = code;
}

/** The TypeScript sources through tsx: compiled on every start, so seconds slower than dist/. */
export async function loadSources() {
  const { register } = await import('tsx/esm/api');
  register();
  return import('./main.ts');
}
