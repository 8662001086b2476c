// The shared package settings, with the radosgw the round-trip tests run against.
import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../tools/vitest/project-defaults.js';

export default defineConfig(packageConfig(import.meta.dirname, { s3: true }));
