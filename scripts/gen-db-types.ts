// npm run db:types: writes src/store/sql/database.ts from the SQLite migrations; `-- --check` only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDbTypes } from './db-types.ts';

const target = join(import.meta.dirname, '..', 'src', 'store', 'sql', 'database.ts');
const source = buildDbTypes();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as out of date
  }
  if (current !== source) {
    console.error('src/store/sql/database.ts is out of date with the migrations: run npm run db:types');
    process.exit(1);
  }
  console.log('src/store/sql/database.ts is up to date');
} else {
  writeFileSync(target, source);
  console.log(`wrote src/store/sql/database.ts (${source.split('\n').length} lines)`);
}
