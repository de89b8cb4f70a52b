import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDbTypes } from '../../../scripts/db-types.ts';

describe('src/store/sql/database.ts', () => {
  it('is what `npm run db:types` generates from the migrations today (run it after adding a migration)', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', '..', '..', 'src', 'store', 'sql', 'database.ts'), 'utf8');
    expect(committed === buildDbTypes(), 'src/store/sql/database.ts is out of date: run npm run db:types').toBe(true);
  });
});
