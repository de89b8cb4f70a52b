// npm run docs:api: writes docs/api.md from the route schemas; `-- --check` only compares.
import { join } from 'node:path';
import { buildApiDocs } from './api-docs.ts';
import { writeOrCheck } from './generated-file.ts';

const markdown = await buildApiDocs();
writeOrCheck(join(import.meta.dirname, '..', 'docs', 'api.md'), markdown, 'npm run docs:api', `${markdown.length} characters`);
