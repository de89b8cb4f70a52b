// npm run db:types: writes src/store/sql/database.ts from the SQLite migrations; `-- --check` only compares.
import { join } from 'node:path';
import { buildDbTypes } from './db-types.ts';
import { writeOrCheck } from './generated-file.ts';

const source = buildDbTypes();
writeOrCheck(join(import.meta.dirname, '..', 'src', 'store', 'sql', 'database.ts'), source, 'npm run db:types', `${source.split('\n').length} lines`);
