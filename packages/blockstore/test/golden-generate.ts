// Regenerates test-fixtures/format-v1/store. Only when the format spec changes on purpose:
//   npx node --conditions=@convoy/source --import ./tools/source-resolve.ts packages/blockstore/test/golden-generate.ts
import fs from 'node:fs/promises';
import { GOLDEN_DIR, writeGoldenStore } from './golden.js';

await fs.rm(GOLDEN_DIR, { recursive: true, force: true });
await writeGoldenStore(GOLDEN_DIR);
console.log(`wrote ${GOLDEN_DIR}`);
