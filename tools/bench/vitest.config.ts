// tools/bench's tests (`npm test -w tools/bench`): the shared package settings, with the test
// files beside the benches they check instead of in src/ or test/.
import { defineConfig } from 'vitest/config';
import { packageConfig } from '../vitest/project-defaults.js';

const base = packageConfig(import.meta.dirname);

export default defineConfig({ ...base, test: { ...base.test, include: ['*.test.ts'] } });
