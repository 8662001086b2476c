// Regenerates test-fixtures/format-v2/store. Only when the format spec changes on purpose:
//   npx node --conditions=@convoy/source --import ./tools/source-resolve.ts packages/blockstore/test/golden-v2-generate.ts
import fs from 'node:fs/promises';
import { GOLDEN_V2_DIR, writeGoldenV2Store } from './golden-v2.js';

await fs.rm(GOLDEN_V2_DIR, { recursive: true, force: true });
await writeGoldenV2Store(GOLDEN_V2_DIR);
console.log(`wrote ${GOLDEN_V2_DIR}`);
