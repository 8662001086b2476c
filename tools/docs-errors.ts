// Writes docs/errors.md from the error-code registry (packages/errors/src/codes.ts):
//   npm run -s docs:errors
// packages/errors/src/registry.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '@convoy/errors';

const target = new URL('../docs/errors.md', import.meta.url);
writeFileSync(target, renderErrorsDoc());
process.stdout.write(`wrote ${target.pathname}\n`);
