// Host runs: unit tests with the fake DmApi (src/**/*.test.ts, beside the code).
// Guest runs (CONVOY_DM_GUEST=1, inside the qemu guest of tools/dmvm.sh, via tools/dmvm-test.sh):
// only test/guest/*.guest.test.ts, one file at a time — they share the kernel's device-mapper.
import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../tools/vitest/project-defaults.js';

const base = packageConfig(import.meta.dirname);
const guest = process.env.CONVOY_DM_GUEST === '1';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    ...(guest
      ? { include: ['test/guest/**/*.guest.test.ts'], fileParallelism: false, testTimeout: 180_000, hookTimeout: 120_000 }
      : { exclude: [...(base.test?.exclude ?? []), 'test/guest/**'] }),
  },
});
