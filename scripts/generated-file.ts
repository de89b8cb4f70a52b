// The generated files' one entry point: write `content` to `target`, or with `--check` only
// compare and exit 1 when it is stale, telling which command to run.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

export function writeOrCheck(target: string, content: string, command: string, summary: string): void {
  const name = relative(process.cwd(), target);
  if (!process.argv.includes('--check')) {
    writeFileSync(target, content);
    console.log(`wrote ${name} (${summary})`);
    return;
  }
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as out of date
  }
  if (current !== content) {
    console.error(`${name} is out of date: run ${command}`);
    process.exit(1);
  }
  console.log(`${name} is up to date`);
}
