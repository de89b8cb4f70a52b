// npm run docs:api: writes docs/api.md from the route schemas; `-- --check` only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApiDocs } from './api-docs.ts';

const target = join(import.meta.dirname, '..', 'docs', 'api.md');
const markdown = await buildApiDocs();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as out of date
  }
  if (current !== markdown) {
    console.error('docs/api.md is out of date with the route schemas: run npm run docs:api');
    process.exit(1);
  }
  console.log('docs/api.md is up to date');
} else {
  writeFileSync(target, markdown);
  console.log(`wrote docs/api.md (${markdown.length} characters)`);
}
