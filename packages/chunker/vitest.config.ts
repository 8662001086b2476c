// The shared package settings (no radosgw: the chunker needs none), so `npx vitest run` in this
// directory runs in seconds.
import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../tools/vitest/project-defaults.js';

export default defineConfig(packageConfig(import.meta.dirname));
